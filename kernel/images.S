/* The user programs, built separately (user/user.ld) and embedded whole.
 * The assembler finds them through -I$(KBUILD)/user. Table layout matches
 * struct user_image in images.h: name, start, end. */

.macro IMAGE name
    .section .rodata
    .balign 8
image_\name\()_start:
    .incbin "\name\().elf"
image_\name\()_end:
    .section .rodata.str
image_\name\()_name:
    .asciz "\name"
.endm

IMAGE init
IMAGE vmo_share
IMAGE sbuf_stream
IMAGE selftest
IMAGE conformance
IMAGE virtio_blk
IMAGE dma_read_share

    .section .rodata
    .balign 8
    .globl user_images
user_images:
    .dword image_init_name, image_init_start, image_init_end
    .dword image_vmo_share_name, image_vmo_share_start, image_vmo_share_end
    .dword image_sbuf_stream_name, image_sbuf_stream_start, image_sbuf_stream_end
    .dword image_selftest_name, image_selftest_start, image_selftest_end
    .dword image_conformance_name, image_conformance_start, image_conformance_end
    .dword image_virtio_blk_name, image_virtio_blk_start, image_virtio_blk_end
    .dword image_dma_read_share_name, image_dma_read_share_start, image_dma_read_share_end
    .globl user_image_count
user_image_count:
    .dword 7
