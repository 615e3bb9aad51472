/*
 * Sample application of the lwm2m-carrier C interface: the behaviour of the carrier sample,
 * written against include/lwm2m_carrier.h. It keeps the Device object up to date, prints
 * every event by name and lets the library reboot the device when it asks.
 *
 * Build on a host (after `cargo build -p lwm2m-carrier-capi`):
 *   cc -std=c11 -Iinclude samples/c_app/main.c target/debug/liblwm2m_carrier_capi.a \
 *      -lpthread -ldl -lm -o c_app
 */

#include <stdint.h>
#include <stdio.h>

#include "lwm2m_carrier.h"

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
	case LWM2M_CARRIER_EVENT_DEFERRED:
		return "LWM2M_CARRIER_EVENT_DEFERRED";
	case LWM2M_CARRIER_EVENT_FOTA_START:
		return "LWM2M_CARRIER_EVENT_FOTA_START";
	case LWM2M_CARRIER_EVENT_REBOOT:
		return "LWM2M_CARRIER_EVENT_REBOOT";
	case LWM2M_CARRIER_EVENT_ERROR:
		return "LWM2M_CARRIER_EVENT_ERROR";
	default:
		return "unknown event";
	}
}

static const char *deferred_reason(uint32_t reason)
{
	static const char *const names[] = {
		"no reason",       "PDN activation",      "no route to bootstrap server",
		"bootstrap connect", "bootstrap sequence", "no route to server",
		"server connect",  "server registration",
	};

	return reason < sizeof(names) / sizeof(names[0]) ? names[reason] : "unknown reason";
}

static const char *error_code(uint32_t code)
{
	static const char *const names[] = {
		"no error",   "connect failed", "disconnect failed",
		"bootstrap",  "FOTA package",   "FOTA protocol",
		"FOTA connection", "FOTA connection lost", "FOTA failed",
	};

	return code < sizeof(names) / sizeof(names[0]) ? names[code] : "unknown error";
}

int lwm2m_carrier_event_handler(const lwm2m_carrier_event_t *event)
{
	printf("%s\n", event_name(event->type));

	switch (event->type) {
	case LWM2M_CARRIER_EVENT_DEFERRED: {
		const lwm2m_carrier_event_deferred_t *d = event->data;

		printf("  reason: %s, retry in %d s\n", deferred_reason(d->reason),
		       (int)d->timeout);
		break;
	}
	case LWM2M_CARRIER_EVENT_ERROR: {
		const lwm2m_carrier_event_error_t *e = event->data;

		printf("  error: %s, value %d\n", error_code(e->code), (int)e->value);
		break;
	}
	case LWM2M_CARRIER_EVENT_FOTA_START:
		printf("  modem update: close any TLS session of the application now\n");
		break;
	case LWM2M_CARRIER_EVENT_REBOOT:
		printf("  rebooting when the library asks\n");
		return 0; /* reboot now; non-zero would postpone */
	default:
		break;
	}
	return 0;
}

int lwm2m_carrier_memory_free_read(void)
{
	return 64; /* kB free on this imaginary device */
}

static void device_values_set(void)
{
	static const uint8_t sources[] = {LWM2M_CARRIER_POWER_SOURCE_DC,
					  LWM2M_CARRIER_POWER_SOURCE_INTERNAL_BATTERY};
	int err = 0;

	err |= lwm2m_carrier_avail_power_sources_set(sources, sizeof(sources));
	err |= lwm2m_carrier_power_source_voltage_set(LWM2M_CARRIER_POWER_SOURCE_DC, 5000);
	err |= lwm2m_carrier_power_source_voltage_set(LWM2M_CARRIER_POWER_SOURCE_INTERNAL_BATTERY,
						      3700);
	err |= lwm2m_carrier_power_source_current_set(LWM2M_CARRIER_POWER_SOURCE_INTERNAL_BATTERY,
						      120);
	err |= lwm2m_carrier_battery_level_set(87);
	err |= lwm2m_carrier_battery_status_set(LWM2M_CARRIER_BATTERY_STATUS_NORMAL);
	err |= lwm2m_carrier_device_type_set("Smart Device");
	err |= lwm2m_carrier_hardware_version_set("1.0");
	err |= lwm2m_carrier_memory_total_set(256);
	err |= lwm2m_carrier_error_code_add(LWM2M_CARRIER_ERROR_CODE_NO_ERROR);
	if (err != 0) {
		printf("setting the Device values failed\n");
	}
}

int main(void)
{
	printf("LwM2M carrier sample started\n");
	device_values_set();

	int err = lwm2m_carrier_init(NULL); /* production: operator defaults */

	if (err != 0) {
		printf("lwm2m_carrier_init failed: %d\n", err);
		return 1;
	}
	lwm2m_carrier_run(); /* never returns */
	return 0;
}
