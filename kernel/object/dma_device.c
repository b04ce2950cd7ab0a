/* DMA devices (CM_OBJ_DMA_DEVICE): kernel/include/kdma.h. */
#include "kdma.h"

void kdma_device_quiesced(struct kdma_dev *d, int stopped)
{
    (void)d;
    (void)stopped;
}

void kdma_device_destroy(struct kobj *o)
{
    (void)o;
}
