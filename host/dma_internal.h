#ifndef CAPMEM_HOST_DMA_INTERNAL_H
#define CAPMEM_HOST_DMA_INTERNAL_H

/* Test hooks of host/dma.c. Not installed, not exported from the .so (the
 * version script exports cm_[a-z]* only). */

#include <stdint.h>
#include <capmem/dma.h>

/* Posts a real completion carrying `tag` through the pool's io_uring (an
 * IORING_OP_NOP whose user_data is the tag), as a late or forged device
 * completion would arrive. It is processed by the next wait or poll.
 * Errors: BAD_HANDLE; WRONG_TYPE; NO_RESOURCES (ring full); IO. */
cm_status_t cm__dma_inject_completion(cm_handle_t pool, uint64_t tag);

/* Registered buffers of live and quarantined pools in this process
 * (leak checks: must return to its baseline after every test). */
uint32_t cm__dma_registered_buffers(void);

#endif
