/* SPDX-License-Identifier: MIT */
// The public headers from C++: this file is compiled with
// g++ -std=c++17 -Wall -Wextra -Werror -pedantic and linked to libcapmem.so,
// so a header that is not valid C++ fails the build and a function without
// extern "C" linkage (or missing from the .so's symbol map) fails the link.
// It does the one-shot share a C++ program would: create a VMO, write it
// through a mapping, seal it, send a read-only handle over a channel pair,
// and check what arrives. Prints TAP; built twice: against the build tree
// (make test) and against an installed copy (tests/host/install_test.sh).
#include <capmem/capmem.h>
#include <capmem/host.h>
#include <capmem/host_dma.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

int test_no = 0;
int failures = 0;

void check(bool ok, const std::string &what, cm_status_t st = CM_OK)
{
    ++test_no;
    if (ok) {
        std::printf("ok %d - %s\n", test_no, what.c_str());
    } else {
        ++failures;
        std::printf("not ok %d - %s (%s)\n", test_no, what.c_str(), cm_status_name(st));
    }
}

// Closes a handle when it goes out of scope: the RAII a C++ caller adds.
class Handle {
public:
    Handle() = default;
    explicit Handle(cm_handle_t h) : h_(h) {}
    Handle(const Handle &) = delete;
    Handle &operator=(const Handle &) = delete;
    ~Handle() { if (h_ != CM_HANDLE_INVALID) cm_handle_close(h_); }
    cm_handle_t get() const { return h_; }
    cm_handle_t *out() { return &h_; }
private:
    cm_handle_t h_ = CM_HANDLE_INVALID;
};

constexpr std::uint64_t kSize = 1u << 20;

std::uint8_t pattern(std::uint64_t i) { return static_cast<std::uint8_t>(i * 131u + 7u); }

void test_library_version_matches_headers()
{
    check(std::strcmp(cm_version(), CAPMEM_VERSION) == 0,
          std::string("library version ") + cm_version() + " matches headers " + CAPMEM_VERSION);
    check(cm_version_number() == CAPMEM_VERSION_NUMBER, "cm_version_number() == CAPMEM_VERSION_NUMBER");
}

void test_sealed_vmo_sent_read_only_arrives_intact()
{
    Handle vmo, end0, end1;
    cm_status_t st = cm_vmo_create(kSize, 0, vmo.out());
    check(st == CM_OK, "cm_vmo_create 1 MiB", st);
    if (st != CM_OK)
        return;

    void *addr = nullptr;
    st = cm_vmo_map(vmo.get(), 0, kSize, CM_MAP_READ | CM_MAP_WRITE, &addr);
    check(st == CM_OK, "map writable", st);
    if (st != CM_OK)
        return;
    auto *bytes = static_cast<std::uint8_t *>(addr);
    for (std::uint64_t i = 0; i < kSize; i++)
        bytes[i] = pattern(i);
    st = cm_vmo_unmap(addr, kSize);
    check(st == CM_OK, "unmap (a writable mapping would block the seal)", st);

    st = cm_vmo_seal(vmo.get(), CM_SEAL_IMMUTABLE);
    check(st == CM_OK, "seal IMMUTABLE", st);

    Handle ro;
    st = cm_handle_duplicate(vmo.get(), CM_RIGHT_READ | CM_RIGHT_MAP | CM_RIGHT_TRANSFER, ro.out());
    check(st == CM_OK, "duplicate without WRITE", st);
    st = cm_channel_create(0, end0.out(), end1.out());
    check(st == CM_OK, "channel pair", st);
    if (st != CM_OK)
        return;

    const std::string msg = "frame";
    cm_handle_t sent = ro.get();
    st = cm_channel_write(end0.get(), msg.data(), static_cast<std::uint32_t>(msg.size()), &sent, 1);
    check(st == CM_OK, "send the handle", st);
    if (st == CM_OK)
        *ro.out() = CM_HANDLE_INVALID; // the channel owns it now

    std::vector<char> buf(64);
    std::uint32_t nbytes = 0, nhandles = 0;
    Handle got;
    st = cm_channel_read(end1.get(), buf.data(), static_cast<std::uint32_t>(buf.size()), &nbytes,
                         got.out(), 1, &nhandles);
    check(st == CM_OK && nhandles == 1 && std::string(buf.data(), nbytes) == msg,
          "receive the message and one handle", st);
    if (st != CM_OK || nhandles != 1)
        return;

    cm_vmo_info_t info{};
    st = cm_vmo_get_info(got.get(), &info);
    check(st == CM_OK && info.size == kSize && (info.flags & CM_VMO_INFO_IMMUTABLE) != 0 &&
              (info.rights & CM_RIGHT_WRITE) == 0,
          "received VMO is immutable, 1 MiB, without WRITE", st);

    void *w = nullptr;
    st = cm_vmo_map(got.get(), 0, kSize, CM_MAP_READ | CM_MAP_WRITE, &w);
    check(st == CM_ERR_ACCESS_DENIED, "writable map of the received handle is refused", st);

    void *r = nullptr;
    st = cm_vmo_map(got.get(), 0, kSize, CM_MAP_READ, &r);
    check(st == CM_OK, "map received VMO read-only", st);
    if (st != CM_OK)
        return;
    const auto *in = static_cast<const std::uint8_t *>(r);
    std::uint64_t bad = 0;
    for (std::uint64_t i = 0; i < kSize; i++)
        bad += in[i] != pattern(i);
    check(bad == 0, "received bytes equal the written pattern (" + std::to_string(bad) + " differ)");
    st = cm_vmo_unmap(r, kSize);
    check(st == CM_OK, "unmap", st);
}

} // namespace

int main()
{
    std::printf("1..16\n");
    test_library_version_matches_headers();
    test_sealed_vmo_sent_read_only_arrives_intact();
    // Every Handle above is out of scope: nothing may remain open.
    check(cm_host_live_handles() == 0 && cm_host_live_mappings() == 0, "no handle or mapping leaked");
    return failures == 0 ? 0 : 1;
}
