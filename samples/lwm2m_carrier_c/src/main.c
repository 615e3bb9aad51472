/*
 * lwm2m-carrier C sample for Zephyr: an application written against lwm2m_carrier.h as for
 * the 0.9.x library. The carrier runs in a thread of the application (lwm2m_carrier_init, then
 * the non-returning lwm2m_carrier_run); main() keeps the Device object current; every event is
 * printed by name, and REBOOT is accepted at once.
 *
 * SPDX-License-Identifier: Apache-2.0 OR MIT
 */

#include <stdint.h>
#include <zephyr/kernel.h>
#include <zephyr/sys/printk.h>

#include <lwm2m_carrier.h>

static const char *event_name(uint32_t type)
{
	switch (type) {
	case LWM2M_CARRIER_EVENT_BSDLIB_INIT:
		return "LWM2M_CARRIER_EVENT_BSDLIB_INIT";
	case LWM2M_CARRIER_EVENT_CONNECTING:
		return "LWM2M_CARRIER_EVENT_CONNECTING";
	case LWM2M_CARRIER_EVENT_CONNECTED:
		return "LWM2M_CARRIER_EVENT_CONNECTED";
	case LWM2M_CARRIER_EVENT_DISCONNECTING:
		return "LWM2M_CARRIER_EVENT_DISCONNECTING";
	case LWM2M_CARRIER_EVENT_DISCONNECTED:
		return "LWM2M_CARRIER_EVENT_DISCONNECTED";
	case LWM2M_CARRIER_EVENT_BOOTSTRAPPED:
		return "LWM2M_CARRIER_EVENT_BOOTSTRAPPED";
	case LWM2M_CARRIER_EVENT_READY:
		return "LWM2M_CARRIER_EVENT_READY";
	case LWM2M_CARRIER_EVENT_FOTA_START:
		return "LWM2M_CARRIER_EVENT_FOTA_START";
	case LWM2M_CARRIER_EVENT_REBOOT:
		return "LWM2M_CARRIER_EVENT_REBOOT";
	case LWM2M_CARRIER_EVENT_DEFERRED:
		return "LWM2M_CARRIER_EVENT_DEFERRED";
	case LWM2M_CARRIER_EVENT_ERROR:
		return "LWM2M_CARRIER_EVENT_ERROR";
	default:
		return "unknown event";
	}
}

int lwm2m_carrier_event_handler(const lwm2m_carrier_event_t *event)
{
	printk("%s\n", event_name(event->type));
	if (event->type == LWM2M_CARRIER_EVENT_DEFERRED) {
		const lwm2m_carrier_event_deferred_t *d = event->data;

		printk("  reason %u, retry in %d s\n", (unsigned int)d->reason, (int)d->timeout);
	} else if (event->type == LWM2M_CARRIER_EVENT_ERROR) {
		const lwm2m_carrier_event_error_t *e = event->data;

		printk("  code %u, value %d\n", (unsigned int)e->code, (int)e->value);
	}
	/* 0: go ahead (for REBOOT: the library reboots now). */
	return 0;
}

static void carrier_thread(void *p1, void *p2, void *p3)
{
	ARG_UNUSED(p1);
	ARG_UNUSED(p2);
	ARG_UNUSED(p3);

	/* NULL: the configuration of the build (CONFIG_LWM2M_CARRIER_*). */
	int err = lwm2m_carrier_init(NULL);

	if (err) {
		printk("lwm2m_carrier_init failed: %d\n", err);
		return;
	}
	lwm2m_carrier_run();
}

K_THREAD_DEFINE(carrier_thread_id, CONFIG_LWM2M_CARRIER_THREAD_STACK_SIZE, carrier_thread, NULL,
		NULL, NULL, CONFIG_LWM2M_CARRIER_THREAD_PRIORITY, 0, 0);

int main(void)
{
	static const uint8_t power_sources[] = {LWM2M_CARRIER_POWER_SOURCE_INTERNAL_BATTERY};
	uint8_t level = 100;

	printk("lwm2m-carrier C sample on %s\n", CONFIG_BOARD);

	lwm2m_carrier_software_version_set("lwm2m-carrier-c-sample 0.1.0");
	lwm2m_carrier_avail_power_sources_set(power_sources, ARRAY_SIZE(power_sources));
	/* A bad value is refused with -EINVAL and changes nothing. */
	printk("battery level 101: %d\n", lwm2m_carrier_battery_level_set(101));

	for (;;) {
		lwm2m_carrier_battery_level_set(level);
		lwm2m_carrier_power_source_voltage_set(LWM2M_CARRIER_POWER_SOURCE_INTERNAL_BATTERY,
						       3000 + level * 12);
		level = level <= 5 ? 100 : level - 1;
		k_sleep(K_SECONDS(30));
	}
	return 0;
}
