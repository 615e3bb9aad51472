/*
 * Thin C glue of the lwm2m-carrier Zephyr port: only what zephyr-lang-rust has no binding for
 * (NVS, the module's log source, reboot, the random seed). Everything else is Rust.
 *
 * SPDX-License-Identifier: Apache-2.0 OR MIT
 */

#include <errno.h>
#include <stdint.h>
#include <zephyr/kernel.h>
#include <zephyr/device.h>
#include <zephyr/drivers/flash.h>
#include <zephyr/storage/flash_map.h>
#include <zephyr/fs/nvs.h>
#include <zephyr/logging/log.h>
#include <zephyr/logging/log_ctrl.h>
#include <zephyr/sys/reboot.h>
#include <zephyr/random/random.h>

LOG_MODULE_REGISTER(lwm2m_carrier, CONFIG_LWM2M_CARRIER_LOG_LEVEL);

/* LWM2M_CARRIER_PARTITION is the node label of CONFIG_LWM2M_CARRIER_STORAGE_PARTITION, passed by
 * the module's CMakeLists.txt (which has already checked that the node exists).
 */
#define CARRIER_PARTITION_NODE DT_NODELABEL(LWM2M_CARRIER_PARTITION)
BUILD_ASSERT(DT_NODE_EXISTS(CARRIER_PARTITION_NODE),
	     "CONFIG_LWM2M_CARRIER_STORAGE_PARTITION names no devicetree node");

#define CARRIER_ID_FIRST 0xCA00
#define CARRIER_ID_LAST 0xCAFF

static struct nvs_fs carrier_fs;
static bool carrier_fs_mounted;

int lwm2m_carrier_zephyr_nvs_mount(void)
{
	struct flash_pages_info info;
	int err;

	memset(&carrier_fs, 0, sizeof(carrier_fs));
	carrier_fs_mounted = false;
	carrier_fs.flash_device = FIXED_PARTITION_NODE_DEVICE(CARRIER_PARTITION_NODE);
	if (!device_is_ready(carrier_fs.flash_device)) {
		LOG_ERR("flash device of the carrier partition is not ready");
		return -ENODEV;
	}
	carrier_fs.offset = FIXED_PARTITION_NODE_OFFSET(CARRIER_PARTITION_NODE);
	err = flash_get_page_info_by_offs(carrier_fs.flash_device, carrier_fs.offset, &info);
	if (err) {
		LOG_ERR("no flash page info at 0x%lx: %d", (long)carrier_fs.offset, err);
		return err;
	}
	carrier_fs.sector_size = info.size;
	carrier_fs.sector_count = FIXED_PARTITION_NODE_SIZE(CARRIER_PARTITION_NODE) / info.size;
	err = nvs_mount(&carrier_fs);
	if (err) {
		LOG_ERR("nvs_mount: %d", err);
		return err;
	}
	carrier_fs_mounted = true;
	return 0;
}

static bool carrier_id_ok(uint16_t id)
{
	return carrier_fs_mounted && id >= CARRIER_ID_FIRST && id <= CARRIER_ID_LAST;
}

/* Returns the record's full length (may exceed len), -ENOENT, or another negative errno. */
int lwm2m_carrier_zephyr_nvs_read(uint16_t id, uint8_t *buf, size_t len)
{
	if (!carrier_id_ok(id)) {
		return -EINVAL;
	}
	return (int)nvs_read(&carrier_fs, id, buf, len);
}

int lwm2m_carrier_zephyr_nvs_write(uint16_t id, const uint8_t *data, size_t len)
{
	if (!carrier_id_ok(id)) {
		return -EINVAL;
	}
	ssize_t n = nvs_write(&carrier_fs, id, data, len);

	return n < 0 ? (int)n : 0;
}

int lwm2m_carrier_zephyr_nvs_delete(uint16_t id)
{
	if (!carrier_id_ok(id)) {
		return -EINVAL;
	}
	int err = nvs_delete(&carrier_fs, id);

	return err == -ENOENT ? 0 : err;
}

/* Erases the whole partition (factory reset, tests). Mount again afterwards. */
int lwm2m_carrier_zephyr_nvs_clear(void)
{
	if (!carrier_fs_mounted) {
		return -EINVAL;
	}
	carrier_fs_mounted = false;
	return nvs_clear(&carrier_fs);
}

/* One log line from Rust's `log` crate, NUL-terminated; deferred logging copies it. */
void lwm2m_carrier_zephyr_log(int level, const char *msg)
{
	switch (level) {
	case LOG_LEVEL_ERR:
		LOG_ERR("%s", msg);
		break;
	case LOG_LEVEL_WRN:
		LOG_WRN("%s", msg);
		break;
	case LOG_LEVEL_INF:
		LOG_INF("%s", msg);
		break;
	default:
		LOG_DBG("%s", msg);
		break;
	}
}

void lwm2m_carrier_zephyr_reboot(void)
{
	LOG_PANIC();
	sys_reboot(SYS_REBOOT_COLD);
}

/* Seed of the engine's message ids and tokens. */
uint64_t lwm2m_carrier_zephyr_seed(void)
{
	uint64_t seed = 0;

#if defined(CONFIG_ENTROPY_HAS_DRIVER) || defined(CONFIG_TEST_RANDOM_GENERATOR)
	sys_rand_get(&seed, sizeof(seed));
#endif
	seed ^= ((uint64_t)k_cycle_get_32() << 32) ^ (uint64_t)k_uptime_ticks();
	return seed;
}
