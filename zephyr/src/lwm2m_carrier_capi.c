/*
 * The C side of lwm2m-carrier's C interface on Zephyr: weak defaults of the functions a C
 * application may implement (lwm2m_carrier.h), and the errno values of this C environment for
 * the Rust side (which declares them extern: Rust has no stable weak linkage). The exported
 * API itself is Rust (zephyr/rust/src/capi.rs, cargo feature "capi").
 *
 * The time defaults keep what a server wrote in RAM, on the kernel's uptime clock.
 *
 * SPDX-License-Identifier: Apache-2.0 OR MIT
 */

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <zephyr/kernel.h>

#include "lwm2m_carrier.h"

const int lwm2m_carrier_capi_errno_einval = EINVAL;
const int lwm2m_carrier_capi_errno_enodev = ENODEV;
const int lwm2m_carrier_capi_errno_enomem = ENOMEM;
const int lwm2m_carrier_capi_errno_ebusy = EBUSY;
const int lwm2m_carrier_capi_errno_eio = EIO;
const int lwm2m_carrier_capi_errno_enotsup = ENOTSUP;

__weak int lwm2m_carrier_event_handler(const lwm2m_carrier_event_t *event)
{
	ARG_UNUSED(event);
	return 0;
}

__weak int lwm2m_carrier_memory_free_read(void)
{
	return 0;
}

/* UTC time at uptime 0, as last written by a server. */
static int32_t default_utc_at_boot;
static int default_utc_offset;
static char default_timezone[64];

__weak int32_t lwm2m_carrier_utc_time_read(void)
{
	return default_utc_at_boot + (int32_t)(k_uptime_get() / MSEC_PER_SEC);
}

__weak void lwm2m_carrier_utc_time_write(int32_t time)
{
	default_utc_at_boot = time - (int32_t)(k_uptime_get() / MSEC_PER_SEC);
}

__weak int lwm2m_carrier_utc_offset_read(void)
{
	return default_utc_offset;
}

__weak void lwm2m_carrier_utc_offset_write(int utc_offset)
{
	default_utc_offset = utc_offset;
}

__weak const char *lwm2m_carrier_timezone_read(void)
{
	return default_timezone[0] != '\0' ? default_timezone : NULL;
}

__weak void lwm2m_carrier_timezone_write(const char *p_tz)
{
	if (p_tz == NULL) {
		default_timezone[0] = '\0';
		return;
	}
	strncpy(default_timezone, p_tz, sizeof(default_timezone) - 1);
	default_timezone[sizeof(default_timezone) - 1] = '\0';
}
