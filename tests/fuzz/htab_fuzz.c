/* Fuzz target for core/handle_table: arbitrary sequences of alloc, remove
 * and lookup with arbitrary handle values, against a shadow model.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Icore \
 *       tests/fuzz/htab_fuzz.c core/handle_table.c -o htab_fuzz
 *
 * Checked after every operation: a value the model does not hold live is
 * BAD_HANDLE; a live value resolves to exactly its object, type and rights;
 * the live count matches; a full table refuses with NO_RESOURCES. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "handle_table.h"

#define CAP 8
#define MAXLIVE 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int objs[256];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cm_htab t;
    struct cm_htab_entry e[CAP];
    cm_handle_t live[MAXLIVE], dead[MAXLIVE];
    uint8_t live_obj[MAXLIVE];
    uint32_t nlive = 0, ndead = 0;
    cm__htab_init(&t, e, CAP);
    for (size_t i = 0; i + 4 < size; i += 5) {
        uint8_t op = data[i] % 4;
        uint32_t arg;
        memcpy(&arg, data + i + 1, 4);
        struct cm_htab_entry *got;
        if (op == 0) {
            cm_handle_t h;
            cm_status_t st = cm__htab_alloc(&t, &objs[arg & 255], CM_OBJ_VMO, arg >> 8, &h);
            if ((nlive == CAP) != (st == CM_ERR_NO_RESOURCES))
                abort();
            if (st == CM_OK) {
                for (uint32_t k = 0; k < nlive; k++)
                    if (live[k] == h)
                        abort();
                live_obj[nlive] = (uint8_t)arg;
                live[nlive++] = h;
            }
        } else if (op == 1 && nlive > 0) {
            uint32_t k = arg % nlive;
            if (cm__htab_remove(&t, live[k], NULL) != CM_OK)
                abort();
            if (ndead < MAXLIVE)
                dead[ndead++] = live[k];
            live[k] = live[--nlive];
            live_obj[k] = live_obj[nlive];
        } else if (op == 2) {
            /* An arbitrary value is either one the model holds live, or bad. */
            int is_live = -1;
            for (uint32_t k = 0; k < nlive; k++)
                if (live[k] == arg)
                    is_live = (int)k;
            cm_status_t st = cm__htab_lookup(&t, arg, CM_OBJ_NONE, 0, &got);
            if ((is_live >= 0) != (st == CM_OK))
                abort();
            if (is_live >= 0 && got->object != &objs[live_obj[is_live]])
                abort();
        } else if (op == 3 && ndead > 0) {
            /* A removed value stays dead unless the same value is live again. */
            cm_handle_t h = dead[arg % ndead];
            int again = 0;
            for (uint32_t k = 0; k < nlive; k++)
                again |= live[k] == h;
            if (!again && cm__htab_lookup(&t, h, CM_OBJ_NONE, 0, &got) != CM_ERR_BAD_HANDLE)
                abort();
        }
        if (t.live != nlive)
            abort();
    }
    return 0;
}
