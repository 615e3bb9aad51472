/*
 * lwm2m-carrier: C interface of the open replacement for the nRF91 LwM2M carrier library.
 *
 * Source compatible with applications written for the 0.9.x carrier library: same function
 * names and signatures, same event, reason and error numbers, same struct layouts.
 * Written for this project from the published interface facts; SPDX: Apache-2.0 OR MIT.
 */

#ifndef LWM2M_CARRIER_H__
#define LWM2M_CARRIER_H__

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup lwm2m_carrier_event LwM2M carrier library events
 * @{
 */

/** The modem library is initialised; the application may use it from now on. */
#define LWM2M_CARRIER_EVENT_BSDLIB_INIT 1
/** The library is bringing the LTE link up. */
#define LWM2M_CARRIER_EVENT_CONNECTING 2
/** The LTE link is up. */
#define LWM2M_CARRIER_EVENT_CONNECTED 3
/** The library is taking the LTE link down (to write keys, or for a modem update). */
#define LWM2M_CARRIER_EVENT_DISCONNECTING 4
/** The LTE link is down. */
#define LWM2M_CARRIER_EVENT_DISCONNECTED 5
/** The bootstrap sequence completed; registration follows. */
#define LWM2M_CARRIER_EVENT_BOOTSTRAPPED 6
/** The device is registered with the operator's device-management server. */
#define LWM2M_CARRIER_EVENT_READY 7
/** A connection attempt failed and will be retried later; data: ::lwm2m_carrier_event_deferred_t. */
#define LWM2M_CARRIER_EVENT_DEFERRED 8
/** A modem firmware update started: end any TLS session of the application now. */
#define LWM2M_CARRIER_EVENT_FOTA_START 9
/** The library wants to reboot the device; return non-zero from the handler to postpone. */
#define LWM2M_CARRIER_EVENT_REBOOT 10
/** Something failed; data: ::lwm2m_carrier_event_error_t. */
#define LWM2M_CARRIER_EVENT_ERROR 20

/** @} */

/**
 * @defgroup lwm2m_carrier_deferred Reasons of a DEFERRED event
 * @{
 */

/** No specific reason (for example the server disabled itself for a while). */
#define LWM2M_CARRIER_DEFERRED_NO_REASON 0
/** The PDN could not be activated (SIM problem or temporary network trouble). */
#define LWM2M_CARRIER_DEFERRED_PDN_ACTIVATE 1
/** No route to the bootstrap server. */
#define LWM2M_CARRIER_DEFERRED_BOOTSTRAP_NO_ROUTE 2
/** The DTLS handshake with the bootstrap server failed (check a custom PSK). */
#define LWM2M_CARRIER_DEFERRED_BOOTSTRAP_CONNECT 3
/** The bootstrap sequence did not complete. */
#define LWM2M_CARRIER_DEFERRED_BOOTSTRAP_SEQUENCE 4
/** No route to the device-management server. */
#define LWM2M_CARRIER_DEFERRED_SERVER_NO_ROUTE 5
/** The DTLS handshake with the device-management server failed. */
#define LWM2M_CARRIER_DEFERRED_SERVER_CONNECT 6
/** The device-management server did not accept the registration. */
#define LWM2M_CARRIER_DEFERRED_SERVER_REGISTRATION 7

/** @} */

/**
 * @defgroup lwm2m_carrier_error Codes of an ERROR event
 * @{
 */

/** No error. */
#define LWM2M_CARRIER_ERROR_NO_ERROR 0
/** The LTE link could not be brought up; value: the error of the link controller. */
#define LWM2M_CARRIER_ERROR_CONNECT_FAIL 1
/** The LTE link could not be taken down; value: the error of the link controller. */
#define LWM2M_CARRIER_ERROR_DISCONNECT_FAIL 2
/** Bootstrap failed; value: a negative key-write error, or 0 when the sequence failed. */
#define LWM2M_CARRIER_ERROR_BOOTSTRAP 3
/** The firmware package was rejected by the modem. */
#define LWM2M_CARRIER_ERROR_FOTA_PKG 4
/** Protocol error during the download (for example no partial-content support). */
#define LWM2M_CARRIER_ERROR_FOTA_PROTO 5
/** The download server could not be reached. */
#define LWM2M_CARRIER_ERROR_FOTA_CONN 6
/** The download connection was lost; the download resumes later. */
#define LWM2M_CARRIER_ERROR_FOTA_CONN_LOST 7
/** A valid update could not be applied. */
#define LWM2M_CARRIER_ERROR_FOTA_FAIL 8

/** @} */

/**
 * @defgroup lwm2m_carrier_device Device object values
 * @{
 */

/** Available power source (Device /3/0/6): DC power. */
#define LWM2M_CARRIER_POWER_SOURCE_DC 0
/** Available power source: internal battery. */
#define LWM2M_CARRIER_POWER_SOURCE_INTERNAL_BATTERY 1
/** Available power source: external battery. */
#define LWM2M_CARRIER_POWER_SOURCE_EXTERNAL_BATTERY 2
/* 3 is not a power source. */
/** Available power source: power over Ethernet. */
#define LWM2M_CARRIER_POWER_SOURCE_ETHERNET 4
/** Available power source: USB. */
#define LWM2M_CARRIER_POWER_SOURCE_USB 5
/** Available power source: AC (mains). */
#define LWM2M_CARRIER_POWER_SOURCE_AC 6
/** Available power source: solar. */
#define LWM2M_CARRIER_POWER_SOURCE_SOLAR 7

/** Battery status (Device /3/0/20): normal. */
#define LWM2M_CARRIER_BATTERY_STATUS_NORMAL 0
/** Battery status: charging. */
#define LWM2M_CARRIER_BATTERY_STATUS_CHARGING 1
/** Battery status: charge complete. */
#define LWM2M_CARRIER_BATTERY_STATUS_CHARGE_COMPLETE 2
/** Battery status: damaged. */
#define LWM2M_CARRIER_BATTERY_STATUS_DAMAGED 3
/** Battery status: low. */
#define LWM2M_CARRIER_BATTERY_STATUS_LOW_BATTERY 4
/** Battery status: not installed. */
#define LWM2M_CARRIER_BATTERY_STATUS_NOT_INSTALLED 5
/** Battery status: unknown (the default). */
#define LWM2M_CARRIER_BATTERY_STATUS_UNKNOWN 6

/** Device error code (Device /3/0/11): no error. */
#define LWM2M_CARRIER_ERROR_CODE_NO_ERROR 0
/** Device error code: low battery power. */
#define LWM2M_CARRIER_ERROR_CODE_LOW_CHARGE 1
/** Device error code: external power supply off. */
#define LWM2M_CARRIER_ERROR_CODE_EXTERNAL_SUPPLY_OFF 2
/** Device error code: GPS module failure. */
#define LWM2M_CARRIER_ERROR_CODE_GPS_FAILURE 3
/** Device error code: low received signal strength. */
#define LWM2M_CARRIER_ERROR_CODE_LOW_SIGNAL 4
/** Device error code: out of memory. */
#define LWM2M_CARRIER_ERROR_CODE_OUT_OF_MEMORY 5
/** Device error code: SMS failure. */
#define LWM2M_CARRIER_ERROR_CODE_SMS_FAILURE 6
/** Device error code: IP connectivity failure. */
#define LWM2M_CARRIER_ERROR_CODE_IP_CONNECTIVITY_FAILURE 7
/** Device error code: peripheral malfunction. */
#define LWM2M_CARRIER_ERROR_CODE_PERIPHERAL_MALFUNCTION 8

/** Identity type of ::lwm2m_carrier_identity_read and _write (Portfolio /16/x/0): device id. */
#define LWM2M_CARRIER_IDENTITY_ID 0
/** Identity type: manufacturer. */
#define LWM2M_CARRIER_IDENTITY_MANUFACTURER 1
/** Identity type: model. */
#define LWM2M_CARRIER_IDENTITY_MODEL 2
/** Identity type: software version. */
#define LWM2M_CARRIER_IDENTITY_SW_VERSION 3

/** @} */

/**
 * @addtogroup lwm2m_carrier_event
 * @{
 */

/** An event for the application's ::lwm2m_carrier_event_handler. */
typedef struct {
	/** One of the LWM2M_CARRIER_EVENT_* values. */
	uint32_t type;
	/**
	 * Event data: ::lwm2m_carrier_event_deferred_t for DEFERRED, ::lwm2m_carrier_event_error_t
	 * for ERROR, NULL otherwise. Valid only during the handler call.
	 */
	const void *data;
} lwm2m_carrier_event_t;

/** Data of LWM2M_CARRIER_EVENT_DEFERRED. */
typedef struct {
	/** One of the LWM2M_CARRIER_DEFERRED_* values. */
	uint32_t reason;
	/** Seconds until the library tries again. */
	int32_t timeout;
} lwm2m_carrier_event_deferred_t;

/** Data of LWM2M_CARRIER_EVENT_ERROR. */
typedef struct {
	/** One of the LWM2M_CARRIER_ERROR_* values. */
	uint32_t code;
	/** Detail of the error; its meaning depends on the code (see the library documentation). */
	int32_t value;
} lwm2m_carrier_event_error_t;

/** @} */

/**
 * @defgroup lwm2m_carrier_api LwM2M carrier library API
 * @{
 */

/**
 * Settings that override the operator defaults, for certification self-tests. Production
 * builds pass NULL to ::lwm2m_carrier_init. A NULL or empty string means "not set".
 */
typedef struct {
	/** Custom bootstrap server URI, "coap://" or "coaps://", at most 64 characters. */
	const char *bootstrap_uri;
	/** Custom bootstrap PSK as a NUL-terminated hex string (even length, at most 64 bytes). */
	const char *psk;
	/** Custom APN for the PDN, at most 64 characters. */
	const char *apn;
	/** Connect to the operator's certification servers instead of production. */
	bool certification_mode;
} lwm2m_carrier_config_t;

/**
 * Initialises the library and brings the LTE link up.
 *
 * Delivers BSDLIB_INIT, CONNECTING and CONNECTED (or ERROR and DEFERRED when the link fails)
 * to ::lwm2m_carrier_event_handler, on the calling thread, before returning. A persisted
 * bootstrap wins over a changed bootstrap URI: only a server-initiated bootstrap or erased
 * storage bootstraps again.
 *
 * Calling it again before ::lwm2m_carrier_run replaces the instance, as after a reboot: the
 * Device values set by the application are kept.
 *
 * @param config Overrides, or NULL for the operator defaults.
 * @return 0 on success; -EINVAL for a bad configuration (PSK not hex, URI too long or not
 *         coap(s)://, string too long; nothing is changed); -EBUSY once ::lwm2m_carrier_run is
 *         running; -EIO when the modem identity (IMEI) cannot be used.
 */
int lwm2m_carrier_init(const lwm2m_carrier_config_t *config);

/**
 * Runs the library: bootstrap, registration, server requests, retries. Never returns when
 * the library is initialised; call it from a thread of its own. Events are delivered on this
 * thread. Returns at once (with a log line) when ::lwm2m_carrier_init has not succeeded.
 */
void lwm2m_carrier_run(void);

/**
 * Implemented by the application: receives the library's events.
 *
 * The library provides a weak default that ignores every event and returns 0. The handler is
 * called without any library lock held, so it may call the setters below.
 *
 * @param event The event; event->data is valid only during the call.
 * @return 0. For LWM2M_CARRIER_EVENT_REBOOT, non-zero postpones the reboot: the library asks
 *         again later, and the application should reboot at its earliest convenience.
 */
int lwm2m_carrier_event_handler(const lwm2m_carrier_event_t *event);

/*
 * Device object setters. All may be called from any thread at any time, also before
 * lwm2m_carrier_init: values set before init are kept and applied when the library starts.
 * Each returns 0, or a negative errno with nothing changed: -EINVAL for a bad value or a NULL
 * pointer, -ENODEV when the resource does not exist, -ENOMEM when the value does not fit.
 */

/**
 * Sets the Available Power Sources (/3/0/6). Sources kept keep their voltage and current.
 *
 * @param power_sources LWM2M_CARRIER_POWER_SOURCE_* values, no duplicates.
 * @param power_source_count Number of entries, at most 8.
 * @return 0, or -EINVAL (NULL, unknown source, duplicate, too many).
 */
int lwm2m_carrier_avail_power_sources_set(const uint8_t *power_sources,
					  uint8_t power_source_count);

/**
 * Sets the voltage of an available power source (/3/0/7).
 *
 * @param power_source A LWM2M_CARRIER_POWER_SOURCE_* value.
 * @param value Voltage in mV.
 * @return 0, -EINVAL for an unknown source, -ENODEV for a source not made available.
 */
int lwm2m_carrier_power_source_voltage_set(uint8_t power_source, int32_t value);

/**
 * Sets the current of an available power source (/3/0/8).
 *
 * @param power_source A LWM2M_CARRIER_POWER_SOURCE_* value.
 * @param value Current in mA.
 * @return 0, -EINVAL for an unknown source, -ENODEV for a source not made available.
 */
int lwm2m_carrier_power_source_current_set(uint8_t power_source, int32_t value);

/**
 * Sets the Battery Level (/3/0/9).
 *
 * @param battery_level Percent, 0 to 100.
 * @return 0, or -EINVAL above 100.
 */
int lwm2m_carrier_battery_level_set(uint8_t battery_level);

/**
 * Sets the Battery Status (/3/0/20).
 *
 * @param battery_status A LWM2M_CARRIER_BATTERY_STATUS_* value.
 * @return 0, or -EINVAL.
 */
int lwm2m_carrier_battery_status_set(int32_t battery_status);

/**
 * Sets the Device Type (/3/0/17); default "Smart Device".
 *
 * @param device_type Non-empty NUL-terminated UTF-8 string, at most 32 bytes.
 * @return 0, -EINVAL (NULL, empty, not UTF-8), -ENOMEM (too long).
 */
int lwm2m_carrier_device_type_set(const char *device_type);

/**
 * Sets the Hardware Version (/3/0/18); default "1.0".
 *
 * @param hardware_version Non-empty NUL-terminated UTF-8 string, at most 32 bytes.
 * @return 0, -EINVAL (NULL, empty, not UTF-8), -ENOMEM (too long).
 */
int lwm2m_carrier_hardware_version_set(const char *hardware_version);

/**
 * Sets the Software Version (/3/0/19); default "LwM2M <library version>".
 *
 * @param software_version Non-empty NUL-terminated UTF-8 string, at most 32 bytes.
 * @return 0, -EINVAL (NULL, empty, not UTF-8), -ENOMEM (too long).
 */
int lwm2m_carrier_software_version_set(const char *software_version);

/**
 * Adds an error code to the Device Error Code list (/3/0/11). Adding a present code or
 * LWM2M_CARRIER_ERROR_CODE_NO_ERROR changes nothing.
 *
 * @param error A LWM2M_CARRIER_ERROR_CODE_* value.
 * @return 0, or -EINVAL.
 */
int lwm2m_carrier_error_code_add(int32_t error);

/**
 * Removes an error code from the Device Error Code list (/3/0/11). Removing an absent code is
 * not an error. When the list is empty the resource reads NO_ERROR.
 *
 * @param error A LWM2M_CARRIER_ERROR_CODE_* value.
 * @return 0, or -EINVAL.
 */
int lwm2m_carrier_error_code_remove(int32_t error);

/**
 * Sets the Memory Total (/3/0/21).
 *
 * @param memory_total Total storage in kB.
 * @return 0.
 */
int lwm2m_carrier_memory_total_set(uint32_t memory_total);

/**
 * Implemented by the application: the free storage in kB, for Memory Free (/3/0/10).
 * The library calls it from its own thread (at init and regularly while running), without any
 * library lock held. The weak default returns 0. A negative value is read as 0.
 */
int lwm2m_carrier_memory_free_read(void);

/*
 * Time hooks. The Device object's Current Time (/3/0/13), UTC Offset (/3/0/14) and Timezone
 * (/3/0/15) come from these functions, and a server's writes to those resources go to them.
 * The library calls them from the thread of lwm2m_carrier_init / lwm2m_carrier_run, without any
 * library lock held: at init and then at least every 30 seconds. The application may override
 * any of them; the weak defaults keep the values in RAM, the time on top of the host's time().
 *
 * Signature choice: the 0.9-style integer forms below. Times are seconds since 1970-01-01 UTC
 * in an int32_t; the UTC offset is in minutes east of UTC (+120 for UTC+02:00), shown to the
 * server as "+HH:MM"; the timezone is an IANA name such as "Europe/Oslo".
 */

/** Returns the current UTC time, seconds since the Unix epoch. */
int32_t lwm2m_carrier_utc_time_read(void);

/** A server set the current UTC time. @param time Seconds since the Unix epoch. */
void lwm2m_carrier_utc_time_write(int32_t time);

/** Returns the UTC offset in minutes. */
int lwm2m_carrier_utc_offset_read(void);

/** A server set the UTC offset. @param utc_offset Minutes east of UTC. */
void lwm2m_carrier_utc_offset_write(int utc_offset);

/**
 * Returns the timezone (IANA name), or NULL for none. The string must stay valid until the
 * next call of a time hook; the library copies it at once (at most 32 bytes are used).
 */
const char *lwm2m_carrier_timezone_read(void);

/** A server set the timezone. @param p_tz NUL-terminated IANA name, valid during the call. */
void lwm2m_carrier_timezone_write(const char *p_tz);

/**
 * Returns monotonic seconds since boot. Declared for source compatibility: this
 * implementation takes its time from the platform port and never calls this hook. The weak
 * default returns the host's monotonic clock in seconds.
 */
int32_t lwm2m_carrier_time_read(void);

/**
 * Reads an identity of a Portfolio (/16) instance.
 *
 * NOT SUPPORTED by this implementation: the library has no Portfolio object yet. Returns
 * -EINVAL for NULL pointers and -ENOTSUP otherwise; buffer and buffer_len are left unchanged.
 *
 * @param instance_id Portfolio instance.
 * @param identity_type A LWM2M_CARRIER_IDENTITY_* value.
 * @param buffer Receives the NUL-terminated string.
 * @param buffer_len In: size of buffer; out: length of the identity.
 */
int lwm2m_carrier_identity_read(uint16_t instance_id, uint16_t identity_type, char *buffer,
				uint16_t *buffer_len);

/**
 * Writes an identity of a Portfolio (/16) instance.
 *
 * NOT SUPPORTED by this implementation: returns -EINVAL for a NULL value and -ENOTSUP
 * otherwise; nothing is stored.
 */
int lwm2m_carrier_identity_write(uint16_t instance_id, uint16_t identity_type, const char *value);

/**
 * Creates a Portfolio (/16) object instance.
 *
 * NOT SUPPORTED by this implementation: always returns -ENOTSUP; no instance is created.
 */
int lwm2m_carrier_portfolio_instance_create(uint16_t instance_id);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* LWM2M_CARRIER_H__ */
