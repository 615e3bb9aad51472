/*
 * C glue of the nRF91 modem port (CONFIG_LWM2M_CARRIER_NRF_MODEM): the IPC interrupt and the
 * modem's shared memory, which only C can name (IRQ_CONNECT, devicetree). libmodem itself and
 * its OS layer are Rust (the nrf-modem crate, zephyr/rust/src/nrf/).
 *
 * SPDX-License-Identifier: Apache-2.0 OR MIT
 */

#include <stdint.h>
#include <zephyr/kernel.h>
#include <zephyr/irq.h>
#include <zephyr/devicetree.h>
#include <cmsis_core.h>

#define IPC_NODE DT_NODELABEL(ipc)
#define SHMEM_NODE DT_NODELABEL(sram0_ns_modem)

BUILD_ASSERT(DT_NODE_EXISTS(IPC_NODE), "the nRF91 modem port needs the IPC peripheral");
BUILD_ASSERT(DT_NODE_EXISTS(SHMEM_NODE),
	     "the nRF91 modem port needs the sram0_ns_modem reserved-memory node");
/* libmodem only reaches the first 128 KB of RAM. */
BUILD_ASSERT(DT_REG_ADDR(SHMEM_NODE) >= 0x20000000 &&
		     DT_REG_ADDR(SHMEM_NODE) + DT_REG_SIZE(SHMEM_NODE) <= 0x20020000,
	     "sram0_ns_modem must lie in the first 128 KB of RAM");
/* The application's RAM must not overlap the modem's (the module's CMakeLists.txt checks it
 * too, with a longer message).
 */
BUILD_ASSERT(DT_REG_ADDR(DT_CHOSEN(zephyr_sram)) >= DT_REG_ADDR(SHMEM_NODE) + DT_REG_SIZE(SHMEM_NODE) ||
		     DT_REG_ADDR(DT_CHOSEN(zephyr_sram)) + DT_REG_SIZE(DT_CHOSEN(zephyr_sram)) <=
			     DT_REG_ADDR(SHMEM_NODE),
	     "zephyr,sram overlaps sram0_ns_modem: choose sram0_ns_app (docs/zephyr.md)");

/* Rust: libmodem's IPC handler (through nrf-modem), then the carrier thread's wake-up. */
extern void lwm2m_carrier_zephyr_nrf_ipc_handler(void);

static void ipc_isr(const void *arg)
{
	ARG_UNUSED(arg);
	/* libmodem's IPC set-up (nrf-modem's nrfx_ipc_init, during nrf_modem_init) writes the raw
	 * priority 0 into the NVIC: above BASEPRI, so irq_lock() would not mask it and kernel calls
	 * from it would be unsafe. Put the interrupt back at its devicetree priority and return:
	 * IPC events are level interrupts, so the same event is taken again at that priority, and
	 * libmodem's handler never runs at priority 0.
	 */
	if (NVIC_GetPriority((IRQn_Type)DT_IRQN(IPC_NODE)) == 0) {
		z_arm_irq_priority_set(DT_IRQN(IPC_NODE), DT_IRQ(IPC_NODE, priority), 0);
		return;
	}
	lwm2m_carrier_zephyr_nrf_ipc_handler();
}

/* Connects the IPC interrupt (before nrf_modem_init, which enables it). */
void lwm2m_carrier_zephyr_nrf_irq_connect(void)
{
	IRQ_CONNECT(DT_IRQN(IPC_NODE), DT_IRQ(IPC_NODE, priority), ipc_isr, NULL, 0);
}

/* Puts the IPC interrupt at its devicetree priority (after nrf_modem_init). */
void lwm2m_carrier_zephyr_nrf_irq_priority(void)
{
	z_arm_irq_priority_set(DT_IRQN(IPC_NODE), DT_IRQ(IPC_NODE, priority), 0);
}

/* Base address and size of the modem's shared memory (sram0_ns_modem). */
void lwm2m_carrier_zephyr_nrf_shmem(uint32_t *base, uint32_t *size)
{
	*base = DT_REG_ADDR(SHMEM_NODE);
	*size = DT_REG_SIZE(SHMEM_NODE);
}
