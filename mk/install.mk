# SPDX-License-Identifier: MIT
# make install / make uninstall, GNU-style: PREFIX (default /usr/local),
# BINDIR, LIBDIR, INCLUDEDIR, MANDIR, PKGCONFIGDIR and DESTDIR (a staging
# root prepended to all of them; the installed files name the paths without
# it). Installs the public headers, libcapmem.so.X.Y.Z with its SONAME and
# development symlinks, libcapmem.a, the capmem CLI, capmem.pc for the
# installed prefix, and the man pages when the tree has a `man` target.
PREFIX       ?= /usr/local
BINDIR       ?= $(PREFIX)/bin
LIBDIR       ?= $(PREFIX)/lib
INCLUDEDIR   ?= $(PREFIX)/include
MANDIR       ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
INSTALL      ?= install

INSTALL_HEADERS = $(wildcard include/capmem/*.h)
MAN_SECTIONS := 1 3 7

.PHONY: install uninstall
install: $(HOST_SO_REAL) $(HOST_LIB) $(HOST_BUILD)/capmem host/capmem.pc.in
	$(Q)$(INSTALL) -d $(DESTDIR)$(INCLUDEDIR)/capmem $(DESTDIR)$(LIBDIR) \
	    $(DESTDIR)$(BINDIR) $(DESTDIR)$(PKGCONFIGDIR)
	$(Q)$(INSTALL) -m 644 $(INSTALL_HEADERS) $(DESTDIR)$(INCLUDEDIR)/capmem/
	$(Q)$(INSTALL) -m 755 $(HOST_SO_REAL) $(DESTDIR)$(LIBDIR)/
	$(Q)ln -sf $(notdir $(HOST_SO_REAL)) $(DESTDIR)$(LIBDIR)/$(HOST_SONAME)
	$(Q)ln -sf $(HOST_SONAME) $(DESTDIR)$(LIBDIR)/libcapmem.so
	$(Q)$(INSTALL) -m 644 $(HOST_LIB) $(DESTDIR)$(LIBDIR)/
	$(Q)$(INSTALL) -m 755 $(HOST_BUILD)/capmem $(DESTDIR)$(BINDIR)/capmem
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(CAPMEM_VERSION)|' \
	    -e 's|@LIBS_PRIVATE@|$(LIB_LIBS)|' host/capmem.pc.in >$(DESTDIR)$(PKGCONFIGDIR)/capmem.pc
	$(Q)if $(MAKE) -n man >/dev/null 2>&1; then \
	    $(MAKE) --no-print-directory man || exit 1; \
	    for s in $(MAN_SECTIONS); do \
	        pages=$$(ls $(BUILD)/man/man$$s/* 2>/dev/null) || continue; \
	        $(INSTALL) -d $(DESTDIR)$(MANDIR)/man$$s || exit 1; \
	        $(INSTALL) -m 644 $$pages $(DESTDIR)$(MANDIR)/man$$s/ || exit 1; \
	    done; \
	fi

uninstall:
	$(Q)rm -f $(addprefix $(DESTDIR)$(INCLUDEDIR)/capmem/,$(notdir $(INSTALL_HEADERS)))
	$(Q)rmdir $(DESTDIR)$(INCLUDEDIR)/capmem 2>/dev/null || true
	$(Q)rm -f $(DESTDIR)$(LIBDIR)/$(notdir $(HOST_SO_REAL)) $(DESTDIR)$(LIBDIR)/$(HOST_SONAME) \
	    $(DESTDIR)$(LIBDIR)/libcapmem.so $(DESTDIR)$(LIBDIR)/libcapmem.a \
	    $(DESTDIR)$(BINDIR)/capmem $(DESTDIR)$(PKGCONFIGDIR)/capmem.pc
	$(Q)rm -f $(DESTDIR)$(MANDIR)/man1/capmem.1 $(DESTDIR)$(MANDIR)/man7/capmem.7
	$(Q)for s in $(MAN_SECTIONS); do for p in $(BUILD)/man/man$$s/*; do \
	    [ -e "$$p" ] && rm -f $(DESTDIR)$(MANDIR)/man$$s/$${p##*/}; done; done; true
