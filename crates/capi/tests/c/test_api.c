/*
 * C-side test of lwm2m_carrier.h and the library behind it (loopback platform: link up at
 * once, no servers). Built by build.rs into an archive that only tests/c_api.rs links; the
 * entry point is c_api_test_main(), which returns 0 or stops at the first failure with a
 * message and returns 1.
 */

#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <pthread.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lwm2m_carrier.h"

/* ---- every number of the interface ---- */

_Static_assert(LWM2M_CARRIER_EVENT_BSDLIB_INIT == 1, "BSDLIB_INIT");
_Static_assert(LWM2M_CARRIER_EVENT_CONNECTING == 2, "CONNECTING");
_Static_assert(LWM2M_CARRIER_EVENT_CONNECTED == 3, "CONNECTED");
_Static_assert(LWM2M_CARRIER_EVENT_DISCONNECTING == 4, "DISCONNECTING");
_Static_assert(LWM2M_CARRIER_EVENT_DISCONNECTED == 5, "DISCONNECTED");
_Static_assert(LWM2M_CARRIER_EVENT_BOOTSTRAPPED == 6, "BOOTSTRAPPED");
_Static_assert(LWM2M_CARRIER_EVENT_READY == 7, "READY");
_Static_assert(LWM2M_CARRIER_EVENT_DEFERRED == 8, "DEFERRED");
_Static_assert(LWM2M_CARRIER_EVENT_FOTA_START == 9, "FOTA_START");
_Static_assert(LWM2M_CARRIER_EVENT_REBOOT == 10, "REBOOT");
_Static_assert(LWM2M_CARRIER_EVENT_ERROR == 20, "ERROR");

_Static_assert(LWM2M_CARRIER_DEFERRED_NO_REASON == 0, "NO_REASON");
_Static_assert(LWM2M_CARRIER_DEFERRED_PDN_ACTIVATE == 1, "PDN_ACTIVATE");
_Static_assert(LWM2M_CARRIER_DEFERRED_BOOTSTRAP_NO_ROUTE == 2, "BOOTSTRAP_NO_ROUTE");
_Static_assert(LWM2M_CARRIER_DEFERRED_BOOTSTRAP_CONNECT == 3, "BOOTSTRAP_CONNECT");
_Static_assert(LWM2M_CARRIER_DEFERRED_BOOTSTRAP_SEQUENCE == 4, "BOOTSTRAP_SEQUENCE");
_Static_assert(LWM2M_CARRIER_DEFERRED_SERVER_NO_ROUTE == 5, "SERVER_NO_ROUTE");
_Static_assert(LWM2M_CARRIER_DEFERRED_SERVER_CONNECT == 6, "SERVER_CONNECT");
_Static_assert(LWM2M_CARRIER_DEFERRED_SERVER_REGISTRATION == 7, "SERVER_REGISTRATION");

_Static_assert(LWM2M_CARRIER_ERROR_NO_ERROR == 0, "NO_ERROR");
_Static_assert(LWM2M_CARRIER_ERROR_CONNECT_FAIL == 1, "CONNECT_FAIL");
_Static_assert(LWM2M_CARRIER_ERROR_DISCONNECT_FAIL == 2, "DISCONNECT_FAIL");
_Static_assert(LWM2M_CARRIER_ERROR_BOOTSTRAP == 3, "BOOTSTRAP");
_Static_assert(LWM2M_CARRIER_ERROR_FOTA_PKG == 4, "FOTA_PKG");
_Static_assert(LWM2M_CARRIER_ERROR_FOTA_PROTO == 5, "FOTA_PROTO");
_Static_assert(LWM2M_CARRIER_ERROR_FOTA_CONN == 6, "FOTA_CONN");
_Static_assert(LWM2M_CARRIER_ERROR_FOTA_CONN_LOST == 7, "FOTA_CONN_LOST");
_Static_assert(LWM2M_CARRIER_ERROR_FOTA_FAIL == 8, "FOTA_FAIL");

_Static_assert(LWM2M_CARRIER_POWER_SOURCE_DC == 0, "DC");
_Static_assert(LWM2M_CARRIER_POWER_SOURCE_INTERNAL_BATTERY == 1, "INTERNAL_BATTERY");
_Static_assert(LWM2M_CARRIER_POWER_SOURCE_EXTERNAL_BATTERY == 2, "EXTERNAL_BATTERY");
_Static_assert(LWM2M_CARRIER_POWER_SOURCE_ETHERNET == 4, "ETHERNET");
_Static_assert(LWM2M_CARRIER_POWER_SOURCE_USB == 5, "USB");
_Static_assert(LWM2M_CARRIER_POWER_SOURCE_AC == 6, "AC");
_Static_assert(LWM2M_CARRIER_POWER_SOURCE_SOLAR == 7, "SOLAR");

_Static_assert(LWM2M_CARRIER_BATTERY_STATUS_NORMAL == 0, "NORMAL");
_Static_assert(LWM2M_CARRIER_BATTERY_STATUS_CHARGING == 1, "CHARGING");
_Static_assert(LWM2M_CARRIER_BATTERY_STATUS_CHARGE_COMPLETE == 2, "CHARGE_COMPLETE");
_Static_assert(LWM2M_CARRIER_BATTERY_STATUS_DAMAGED == 3, "DAMAGED");
_Static_assert(LWM2M_CARRIER_BATTERY_STATUS_LOW_BATTERY == 4, "LOW_BATTERY");
_Static_assert(LWM2M_CARRIER_BATTERY_STATUS_NOT_INSTALLED == 5, "NOT_INSTALLED");
_Static_assert(LWM2M_CARRIER_BATTERY_STATUS_UNKNOWN == 6, "UNKNOWN");

_Static_assert(LWM2M_CARRIER_ERROR_CODE_NO_ERROR == 0, "EC NO_ERROR");
_Static_assert(LWM2M_CARRIER_ERROR_CODE_LOW_CHARGE == 1, "EC LOW_CHARGE");
_Static_assert(LWM2M_CARRIER_ERROR_CODE_EXTERNAL_SUPPLY_OFF == 2, "EC EXTERNAL_SUPPLY_OFF");
_Static_assert(LWM2M_CARRIER_ERROR_CODE_GPS_FAILURE == 3, "EC GPS_FAILURE");
_Static_assert(LWM2M_CARRIER_ERROR_CODE_LOW_SIGNAL == 4, "EC LOW_SIGNAL");
_Static_assert(LWM2M_CARRIER_ERROR_CODE_OUT_OF_MEMORY == 5, "EC OUT_OF_MEMORY");
_Static_assert(LWM2M_CARRIER_ERROR_CODE_SMS_FAILURE == 6, "EC SMS_FAILURE");
_Static_assert(LWM2M_CARRIER_ERROR_CODE_IP_CONNECTIVITY_FAILURE == 7, "EC IP_CONNECTIVITY");
_Static_assert(LWM2M_CARRIER_ERROR_CODE_PERIPHERAL_MALFUNCTION == 8, "EC PERIPHERAL");

/* ---- layouts, derived from the C layout rules for this target ---- */

#define ROUND_UP(x, a) ((((x) + (a)-1) / (a)) * (a))
#define PTR_SIZE sizeof(const void *)
#define PTR_ALIGN alignof(const void *)

_Static_assert(offsetof(lwm2m_carrier_event_t, type) == 0, "event.type");
_Static_assert(offsetof(lwm2m_carrier_event_t, data) == ROUND_UP(sizeof(uint32_t), PTR_ALIGN),
	       "event.data after type, aligned for a pointer");
_Static_assert(sizeof(lwm2m_carrier_event_t) ==
		       ROUND_UP(ROUND_UP(sizeof(uint32_t), PTR_ALIGN) + PTR_SIZE,
				alignof(lwm2m_carrier_event_t)),
	       "sizeof event");
_Static_assert(alignof(lwm2m_carrier_event_t) == (PTR_ALIGN > 4 ? PTR_ALIGN : 4), "alignof ev");

_Static_assert(offsetof(lwm2m_carrier_event_deferred_t, reason) == 0, "deferred.reason");
_Static_assert(offsetof(lwm2m_carrier_event_deferred_t, timeout) == 4, "deferred.timeout");
_Static_assert(sizeof(lwm2m_carrier_event_deferred_t) == 8, "sizeof deferred");

_Static_assert(offsetof(lwm2m_carrier_event_error_t, code) == 0, "error.code");
_Static_assert(offsetof(lwm2m_carrier_event_error_t, value) == 4, "error.value");
_Static_assert(sizeof(lwm2m_carrier_event_error_t) == 8, "sizeof error");

_Static_assert(sizeof(bool) == 1, "bool");
_Static_assert(offsetof(lwm2m_carrier_config_t, bootstrap_uri) == 0, "config.bootstrap_uri");
_Static_assert(offsetof(lwm2m_carrier_config_t, psk) == PTR_SIZE, "config.psk");
_Static_assert(offsetof(lwm2m_carrier_config_t, apn) == 2 * PTR_SIZE, "config.apn");
_Static_assert(offsetof(lwm2m_carrier_config_t, certification_mode) == 3 * PTR_SIZE,
	       "config.certification_mode");
_Static_assert(sizeof(lwm2m_carrier_config_t) == ROUND_UP(3 * PTR_SIZE + 1, PTR_ALIGN),
	       "sizeof config");

/* ---- the application side: handler and hooks ---- */

#define MAX_EVENTS 64

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static uint32_t events[MAX_EVENTS];
static lwm2m_carrier_event_deferred_t deferred[MAX_EVENTS];
static int event_count;
static int memory_free_reads;
static int utc_offset_reads;
static int timezone_reads;

int lwm2m_carrier_event_handler(const lwm2m_carrier_event_t *event)
{
	pthread_mutex_lock(&lock);
	if (event_count < MAX_EVENTS) {
		if (event->type == LWM2M_CARRIER_EVENT_DEFERRED) {
			deferred[event_count] = *(const lwm2m_carrier_event_deferred_t *)event->data;
		}
		events[event_count++] = event->type;
	}
	pthread_mutex_unlock(&lock);
	/* The handler may call setters: the library holds no lock while calling it. */
	if (event->type == LWM2M_CARRIER_EVENT_CONNECTED) {
		(void)lwm2m_carrier_battery_level_set(77);
	}
	return 0;
}

int lwm2m_carrier_memory_free_read(void)
{
	pthread_mutex_lock(&lock);
	memory_free_reads++;
	pthread_mutex_unlock(&lock);
	return 123;
}

int lwm2m_carrier_utc_offset_read(void)
{
	pthread_mutex_lock(&lock);
	utc_offset_reads++;
	pthread_mutex_unlock(&lock);
	return 120;
}

const char *lwm2m_carrier_timezone_read(void)
{
	pthread_mutex_lock(&lock);
	timezone_reads++;
	pthread_mutex_unlock(&lock);
	return "Europe/Oslo";
}

/* ---- helpers ---- */

static int failed;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "test_api.c:%d: check failed: %s\n", __LINE__, #cond);     \
			failed = 1;                                                                \
			return 1;                                                                  \
		}                                                                                  \
	} while (0)

#define EXPECT(call, expected)                                                                     \
	do {                                                                                       \
		int got_ = (call);                                                                 \
		if (got_ != (expected)) {                                                          \
			fprintf(stderr, "test_api.c:%d: %s returned %d, expected %d (%s)\n",       \
				__LINE__, #call, got_, (int)(expected), #expected);                \
			failed = 1;                                                                \
			return 1;                                                                  \
		}                                                                                  \
	} while (0)

static int events_snapshot(uint32_t *out)
{
	pthread_mutex_lock(&lock);
	int n = event_count;
	memcpy(out, events, sizeof(events));
	pthread_mutex_unlock(&lock);
	return n;
}

static void events_clear(void)
{
	pthread_mutex_lock(&lock);
	event_count = 0;
	pthread_mutex_unlock(&lock);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static int expect_init_events(void)
{
	uint32_t got[MAX_EVENTS];
	int n = events_snapshot(got);

	CHECK(n == 3);
	CHECK(got[0] == LWM2M_CARRIER_EVENT_BSDLIB_INIT);
	CHECK(got[1] == LWM2M_CARRIER_EVENT_CONNECTING);
	CHECK(got[2] == LWM2M_CARRIER_EVENT_CONNECTED);
	return 0;
}

static char long_string[501];

/* ---- the parts ---- */

static int test_setters_before_init(void)
{
	const uint8_t sources[] = {LWM2M_CARRIER_POWER_SOURCE_INTERNAL_BATTERY,
				   LWM2M_CARRIER_POWER_SOURCE_USB};

	EXPECT(lwm2m_carrier_avail_power_sources_set(sources, 2), 0);
	EXPECT(lwm2m_carrier_power_source_voltage_set(LWM2M_CARRIER_POWER_SOURCE_INTERNAL_BATTERY,
						      3800),
	       0);
	EXPECT(lwm2m_carrier_power_source_voltage_set(LWM2M_CARRIER_POWER_SOURCE_AC, 230000),
	       -ENODEV);
	EXPECT(lwm2m_carrier_battery_level_set(42), 0);
	EXPECT(lwm2m_carrier_battery_level_set(101), -EINVAL);
	EXPECT(lwm2m_carrier_device_type_set("Test Device"), 0);
	EXPECT(lwm2m_carrier_device_type_set(NULL), -EINVAL);
	EXPECT(lwm2m_carrier_battery_status_set(LWM2M_CARRIER_BATTERY_STATUS_CHARGING), 0);
	EXPECT(lwm2m_carrier_error_code_add(LWM2M_CARRIER_ERROR_CODE_LOW_SIGNAL), 0);
	EXPECT(lwm2m_carrier_memory_total_set(4096), 0);
	return 0;
}

static int test_bad_configs(void)
{
	char long_uri[200];
	lwm2m_carrier_config_t config = {0};

	memset(long_uri, 0, sizeof(long_uri));
	strcpy(long_uri, "coaps://");
	memset(long_uri + 8, 'a', sizeof(long_uri) - 8 - 6);
	strcat(long_uri, ":5684");

	config.psk = "not hex!";
	EXPECT(lwm2m_carrier_init(&config), -EINVAL);
	config.psk = "abc"; /* odd length */
	EXPECT(lwm2m_carrier_init(&config), -EINVAL);
	config.psk = NULL;
	config.bootstrap_uri = long_uri;
	EXPECT(lwm2m_carrier_init(&config), -EINVAL);
	config.bootstrap_uri = "http://bootstrap.example.com";
	EXPECT(lwm2m_carrier_init(&config), -EINVAL);
	config.bootstrap_uri = NULL;
	config.apn = long_string;
	EXPECT(lwm2m_carrier_init(&config), -EINVAL);
	config.apn = "\xff\xfe";
	EXPECT(lwm2m_carrier_init(&config), -EINVAL);

	uint32_t got[MAX_EVENTS];
	CHECK(events_snapshot(got) == 0); /* nothing started */
	return 0;
}

static int test_init(void)
{
	events_clear();
	EXPECT(lwm2m_carrier_init(NULL), 0);
	if (expect_init_events() != 0) {
		return 1;
	}
	pthread_mutex_lock(&lock);
	int mem = memory_free_reads, off = utc_offset_reads, tz = timezone_reads;
	pthread_mutex_unlock(&lock);
	CHECK(mem > 0);
	CHECK(off > 0);
	CHECK(tz > 0);

	/* Again with a custom configuration: a new instance, same init sequence. */
	lwm2m_carrier_config_t config = {
		.bootstrap_uri = "coaps://bootstrap.example.com:5684",
		.psk = "000102030405060708090a0b0c0d0e0f",
		.apn = "test.apn",
		.certification_mode = true,
	};
	events_clear();
	EXPECT(lwm2m_carrier_init(&config), 0);
	return expect_init_events();
}

static int test_setters(void)
{
	const uint8_t sources[] = {LWM2M_CARRIER_POWER_SOURCE_DC,
				   LWM2M_CARRIER_POWER_SOURCE_INTERNAL_BATTERY,
				   LWM2M_CARRIER_POWER_SOURCE_USB};
	const uint8_t not_a_source[] = {3};
	const uint8_t too_high[] = {8};
	const uint8_t twice[] = {1, 1};
	const uint8_t nine[] = {0, 1, 2, 4, 5, 6, 7, 0, 1};

	EXPECT(lwm2m_carrier_avail_power_sources_set(NULL, 1), -EINVAL);
	EXPECT(lwm2m_carrier_avail_power_sources_set(not_a_source, 1), -EINVAL);
	EXPECT(lwm2m_carrier_avail_power_sources_set(too_high, 1), -EINVAL);
	EXPECT(lwm2m_carrier_avail_power_sources_set(twice, 2), -EINVAL);
	EXPECT(lwm2m_carrier_avail_power_sources_set(nine, 9), -EINVAL);
	EXPECT(lwm2m_carrier_avail_power_sources_set(sources, 3), 0);

	EXPECT(lwm2m_carrier_power_source_voltage_set(LWM2M_CARRIER_POWER_SOURCE_INTERNAL_BATTERY,
						      4100),
	       0);
	EXPECT(lwm2m_carrier_power_source_voltage_set(LWM2M_CARRIER_POWER_SOURCE_DC, 5000), 0);
	EXPECT(lwm2m_carrier_power_source_voltage_set(LWM2M_CARRIER_POWER_SOURCE_EXTERNAL_BATTERY,
						      1),
	       -ENODEV);
	EXPECT(lwm2m_carrier_power_source_voltage_set(3, 1), -EINVAL);
	EXPECT(lwm2m_carrier_power_source_voltage_set(200, 1), -EINVAL);
	EXPECT(lwm2m_carrier_power_source_current_set(LWM2M_CARRIER_POWER_SOURCE_USB, 500), 0);
	EXPECT(lwm2m_carrier_power_source_current_set(LWM2M_CARRIER_POWER_SOURCE_AC, 1), -ENODEV);
	EXPECT(lwm2m_carrier_power_source_current_set(9, 1), -EINVAL);

	EXPECT(lwm2m_carrier_battery_level_set(0), 0);
	EXPECT(lwm2m_carrier_battery_level_set(100), 0);
	EXPECT(lwm2m_carrier_battery_level_set(101), -EINVAL);
	EXPECT(lwm2m_carrier_battery_level_set(255), -EINVAL);

	for (int32_t s = LWM2M_CARRIER_BATTERY_STATUS_NORMAL;
	     s <= LWM2M_CARRIER_BATTERY_STATUS_UNKNOWN; s++) {
		EXPECT(lwm2m_carrier_battery_status_set(s), 0);
	}
	EXPECT(lwm2m_carrier_battery_status_set(7), -EINVAL);
	EXPECT(lwm2m_carrier_battery_status_set(-1), -EINVAL);

	EXPECT(lwm2m_carrier_device_type_set("Smart Thermometer"), 0);
	EXPECT(lwm2m_carrier_device_type_set(""), -EINVAL);
	EXPECT(lwm2m_carrier_device_type_set(NULL), -EINVAL);
	EXPECT(lwm2m_carrier_device_type_set(long_string), -ENOMEM);
	EXPECT(lwm2m_carrier_device_type_set("\xff\xfe"), -EINVAL);
	EXPECT(lwm2m_carrier_hardware_version_set("2.1"), 0);
	EXPECT(lwm2m_carrier_hardware_version_set(""), -EINVAL);
	EXPECT(lwm2m_carrier_hardware_version_set(NULL), -EINVAL);
	EXPECT(lwm2m_carrier_hardware_version_set(long_string), -ENOMEM);
	EXPECT(lwm2m_carrier_software_version_set("app 1.2.3"), 0);
	EXPECT(lwm2m_carrier_software_version_set(""), -EINVAL);
	EXPECT(lwm2m_carrier_software_version_set(NULL), -EINVAL);
	EXPECT(lwm2m_carrier_software_version_set(long_string), -ENOMEM);

	for (int32_t e = LWM2M_CARRIER_ERROR_CODE_NO_ERROR;
	     e <= LWM2M_CARRIER_ERROR_CODE_PERIPHERAL_MALFUNCTION; e++) {
		EXPECT(lwm2m_carrier_error_code_add(e), 0);
	}
	EXPECT(lwm2m_carrier_error_code_add(LWM2M_CARRIER_ERROR_CODE_LOW_CHARGE), 0); /* again */
	EXPECT(lwm2m_carrier_error_code_add(9), -EINVAL);
	EXPECT(lwm2m_carrier_error_code_add(-1), -EINVAL);
	EXPECT(lwm2m_carrier_error_code_remove(LWM2M_CARRIER_ERROR_CODE_OUT_OF_MEMORY), 0);
	EXPECT(lwm2m_carrier_error_code_remove(LWM2M_CARRIER_ERROR_CODE_OUT_OF_MEMORY), 0);
	EXPECT(lwm2m_carrier_error_code_remove(9), -EINVAL);
	EXPECT(lwm2m_carrier_error_code_remove(-1), -EINVAL);

	EXPECT(lwm2m_carrier_memory_total_set(1024), 0);

	char buf[32];
	uint16_t len = sizeof(buf);
	EXPECT(lwm2m_carrier_identity_read(0, LWM2M_CARRIER_IDENTITY_ID, NULL, &len), -EINVAL);
	EXPECT(lwm2m_carrier_identity_read(0, LWM2M_CARRIER_IDENTITY_ID, buf, NULL), -EINVAL);
	EXPECT(lwm2m_carrier_identity_read(0, LWM2M_CARRIER_IDENTITY_ID, buf, &len), -ENOTSUP);
	CHECK(len == sizeof(buf));
	EXPECT(lwm2m_carrier_identity_write(0, LWM2M_CARRIER_IDENTITY_MODEL, NULL), -EINVAL);
	EXPECT(lwm2m_carrier_identity_write(0, LWM2M_CARRIER_IDENTITY_MODEL, "x"), -ENOTSUP);
	EXPECT(lwm2m_carrier_portfolio_instance_create(1), -ENOTSUP);
	return 0;
}

static void *run_thread(void *arg)
{
	(void)arg;
	lwm2m_carrier_run(); /* never returns */
	return NULL;
}

static int test_run(void)
{
	pthread_t thread;
	uint32_t got[MAX_EVENTS];

	events_clear();
	CHECK(pthread_create(&thread, NULL, run_thread, NULL) == 0);
	pthread_detach(thread);

	/* No servers behind the loopback link: the bootstrap is deferred. */
	double start = now_s();
	int n = 0;
	while (now_s() - start < 10.0) {
		n = events_snapshot(got);
		if (n > 0) {
			break;
		}
		sleep_ms(5);
	}
	CHECK(n >= 1);
	CHECK(got[0] == LWM2M_CARRIER_EVENT_DEFERRED);
	pthread_mutex_lock(&lock);
	lwm2m_carrier_event_deferred_t d = deferred[0];
	pthread_mutex_unlock(&lock);
	CHECK(d.reason == LWM2M_CARRIER_DEFERRED_BOOTSTRAP_NO_ROUTE);
	CHECK(d.timeout > 0);

	/* The run thread now sleeps until the retry: setters must not wait for it. */
	sleep_ms(50);
	double t0 = now_s();
	for (int i = 0; i < 100; i++) {
		EXPECT(lwm2m_carrier_battery_level_set((uint8_t)i), 0);
		EXPECT(lwm2m_carrier_power_source_voltage_set(LWM2M_CARRIER_POWER_SOURCE_DC, i), 0);
	}
	CHECK(now_s() - t0 < 1.0);

	/* Once running, init is refused and a second run returns at once. */
	EXPECT(lwm2m_carrier_init(NULL), -EBUSY);
	lwm2m_carrier_run();
	return 0;
}

int c_api_test_main(void)
{
	memset(long_string, 'x', sizeof(long_string) - 1);

	if (test_setters_before_init() || test_bad_configs() || test_init() || test_setters() ||
	    test_run()) {
		return 1;
	}
	(void)failed;
	printf("test_api.c: all checks passed\n");
	return 0;
}
