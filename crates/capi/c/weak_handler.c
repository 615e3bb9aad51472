/*
 * Weak defaults of the functions an application of lwm2m-carrier may implement, plus the
 * errno values of this C environment for the Rust side. Rust has no stable weak linkage,
 * so these live in C and the Rust code calls them through extern declarations.
 *
 * The time defaults keep the server's settings in RAM: UTC time as an offset to the host's
 * time(), the UTC offset in minutes, the timezone as a string.
 */

#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "lwm2m_carrier.h"

#define WEAK __attribute__((weak))

/* Errno values as this C library defines them (they differ between libcs for some codes). */
const int lwm2m_carrier_capi_errno_einval = EINVAL;
const int lwm2m_carrier_capi_errno_enodev = ENODEV;
const int lwm2m_carrier_capi_errno_enomem = ENOMEM;
const int lwm2m_carrier_capi_errno_ebusy = EBUSY;
const int lwm2m_carrier_capi_errno_eio = EIO;
const int lwm2m_carrier_capi_errno_enotsup = ENOTSUP;

WEAK int lwm2m_carrier_event_handler(const lwm2m_carrier_event_t *event)
{
	(void)event;
	return 0;
}

WEAK int lwm2m_carrier_memory_free_read(void)
{
	return 0;
}

/* Seconds the server's UTC time is ahead of time(). */
static int32_t default_utc_delta;
static int default_utc_offset;
static char default_timezone[64];

WEAK int32_t lwm2m_carrier_utc_time_read(void)
{
	return (int32_t)time(NULL) + default_utc_delta;
}

WEAK void lwm2m_carrier_utc_time_write(int32_t time_s)
{
	default_utc_delta = time_s - (int32_t)time(NULL);
}

WEAK int lwm2m_carrier_utc_offset_read(void)
{
	return default_utc_offset;
}

WEAK void lwm2m_carrier_utc_offset_write(int utc_offset)
{
	default_utc_offset = utc_offset;
}

WEAK const char *lwm2m_carrier_timezone_read(void)
{
	return default_timezone;
}

WEAK void lwm2m_carrier_timezone_write(const char *p_tz)
{
	if (p_tz == NULL) {
		default_timezone[0] = '\0';
		return;
	}
	strncpy(default_timezone, p_tz, sizeof(default_timezone) - 1);
	default_timezone[sizeof(default_timezone) - 1] = '\0';
}

WEAK int32_t lwm2m_carrier_time_read(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
		return 0;
	}
	return (int32_t)ts.tv_sec;
}
