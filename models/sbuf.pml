/* SPDX-License-Identifier: MIT */
/* Spin model of the SharedBuffer ring protocol (docs/sbuf.md, core/
 * sbuf_own.c, core/sbuf_cons.c): one producer, two consumers, three slots,
 * rings of four entries, one loan and one held message per consumer
 * (DROP_OLDEST's bound: 3 >= 2 x 1 + 1). The REUSE configuration
 * (-DNC=1 -DNS=2 -DD=2 -DNMSG=6) is the host's ring_size == slot_count
 * case, small enough to send enough messages that, under DROP_OLDEST, the
 * producer takes entry r back and rewrites cell(r) (index r + D) while the
 * consumer is still copying it; with D > NS that needs NMSG >= 5 and two
 * take-backs, which the default configuration cannot afford.
 *
 * Granularity: every access to a shared word is its own step, in the
 * order the protocol prescribes (a descriptor is copied field by field,
 * so a copy can be torn); the only multi-word atomic step is the
 * CAS on a consumer's read index. Spin interleaves sequentially
 * consistent steps, so the acquire/release pairs of docs/sbuf.md are
 * modelled by their effect: a step after a release-store or acquire-load
 * stays after it. The ordering mutant below moves one of those points and
 * must be caught.
 *
 * Compile-time switches (spin -D...):
 *   DROP      DROP_OLDEST (default BLOCK)
 *   STALL     consumer 1 may stop for good at any point, holding what it
 *             holds (a slow or dead-but-not-yet-noticed consumer)
 *   UNCHECKED_RELEASES  the producer applies release entries without its
 *             own check, so that only the safety assertions judge a mutant
 * Mutants (tests/host/sbuf_spin_test.sh; each must fail):
 *   MUTANT_FIRST_RELEASE_FREES     a slot goes back to the pool when the
 *                                  first of its holders releases it
 *   MUTANT_TAIL_BEFORE_DESCRIPTOR  the tail is published before the
 *                                  descriptor is written (release order lost)
 *   MUTANT_REAP_LOADS_TAIL_FIRST   the producer loads rel_tail before read
 *   MUTANT_DROP_WITHOUT_CAS        DROP_OLDEST takes an entry back with a
 *                                  plain store, racing the consumer's claim
 *   MUTANT_CHECK_BEFORE_CLAIM      DROP_OLDEST consumer checks its copy
 *                                  before the CAS claims it (the host's old
 *                                  order): a reused cell is a false PROTOCOL
 *   MUTANT_NO_READ_RELOAD          DROP_OLDEST consumer does not load read
 *                                  again after tail: tail - read can exceed
 *                                  the ring, a false PROTOCOL
 *   MUTANT_CLAIM_WITHOUT_CAS       DROP_OLDEST consumer compares read, then
 *                                  stores it: it accepts a taken-back entry
 *
 * Checked in every interleaving (assertions):
 *   - no slot is loaned (written) while a consumer holds it or has it
 *     pending in its delivery ring;
 *   - a consumer's held message keeps its bytes until it releases it;
 *   - a consumer's poll and check never fail on an honest producer (no
 *     false PROTOCOL): tail - read <= D, read only forward, slot in range,
 *     sequence number = expected + entries taken back (0 under BLOCK);
 *   - what a consumer accepts is its own delivery at r, in a slot still
 *     published with that message (not taken back, reclaimed or reloaned);
 *   - the producer never finds a hostile index (its own checks hold).
 * Liveness (-a; it holds without assuming fairness, because every process
 * blocks on a condition rather than spinning when it cannot progress),
 * ltl all_published:
 *   - BLOCK: every message gets published while consumers keep releasing;
 *   - DROP + STALL: every message gets published although consumer 1
 *     stopped: the producer never waits on a slow consumer. */

#ifndef NC
#define NC 2       /* consumers: 1 or 2 */
#endif
#ifndef NS
#define NS 3       /* slots: >= NC x 1 + 1 */
#endif
#ifndef D
#define D 4        /* ring entries: power of two >= NS */
#endif
#ifndef NMSG
#define NMSG 4     /* messages the producer sends: one more than the slots,
                      so a DROP_OLDEST loan must take one back; REUSE
                      runs with more, so that a cell is rewritten (index
                      r + D published) while the consumer copies it */
#endif
#define NONE 255
#define IBASE 254  /* first ring index */
#define SBASE 254  /* first sequence number */

#define FREE 0
#define LOANED 1
#define PUB 2

/* ---- shared memory ---- */
byte tail[NC] = IBASE;  /* producer area: deliveries written */
byte rel_head[NC] = IBASE; /* producer area: releases processed */
byte dslot[NC * D];     /* producer area: delivery ring */
byte dseq[NC * D];
byte rd[NC] = IBASE;    /* consumer area: deliveries taken (CAS by producer to drop) */
byte rel_tail[NC] = IBASE; /* consumer area: releases written */
byte rslot[NC * D];     /* consumer area: release ring */
byte rseq[NC * D];
byte data[NS];          /* slot bytes: the seq written into it, 0 while being written */

/* ---- producer's private bookkeeping ---- */
byte st[NS];
byte pend[NS];          /* consumer bits */
byte hld[NS];
byte sseq[NS];
byte pfloor[NC] = IBASE;
byte pslot[NC * D];     /* mirror of each delivery ring */
byte npub;              /* messages published */
byte prcv[NC];          /* deliveries accounted as received */
byte prel[NC];          /* releases processed */

/* ---- consumers' private state ---- */
byte myrd[NC] = IBASE;
byte expct[NC] = SBASE;
byte hslot[NC] = NONE;  /* held slot or NONE */
byte hseq[NC];

#define CELL(c, i) ((c) * D + ((i) % D))
/* b - a on the 8-bit circle: indices and sequence numbers start just below
 * 256 (IBASE, SBASE) so that every run crosses the wrap, as the 64-bit
 * counters of the implementation are allowed to. */
#define DIST(a, b) (((b) - (a)) & 255)

/* Does consumer c hold slot s or have it pending? (ground truth) */
inline has(c, s, r)
{
    r = (hslot[c] == s);
    k = rd[c];
    do
    :: k != tail[c] -> r = r || dslot[CELL(c, k)] == s; k++
    :: else -> break
    od;
}

/* The producer reaps consumer c: loads read, rel_tail, read again (each a
 * step), then the bookkeeping of core/sbuf_own.c (reap_begin, each release,
 * reap_end) in one step on private memory. */
inline reap(c)
{
#ifdef MUTANT_REAP_LOADS_TAIL_FIRST
    t = rel_tail[c];
    r1 = rd[c];
#else
    r1 = rd[c];
    t = rel_tail[c];
#endif
    r2 = rd[c];
    atomic {
        /* reap_begin: floor <= r1 <= r2 <= tail, rel_tail within a ring */
        assert(DIST(pfloor[c], r1) <= DIST(pfloor[c], r2));
        assert(DIST(pfloor[c], r2) <= DIST(pfloor[c], tail[c]));
        assert(DIST(rel_head[c], t) <= D);
        mark = prcv[c] + DIST(pfloor[c], r1);  /* received when r1 was loaded */
        do
        :: pfloor[c] != r2 ->
            s = pslot[CELL(c, pfloor[c])];
            pend[s] = pend[s] & ~(1 << c);
            hld[s] = hld[s] | (1 << c);
            pfloor[c]++;
            prcv[c]++
        :: else -> break
        od;
        do
        :: rel_head[c] != t ->
            s = rslot[CELL(c, rel_head[c])];
#ifndef UNCHECKED_RELEASES
            /* reap_release: an honest consumer's entries all pass */
            assert(st[s] == PUB && sseq[s] == rseq[CELL(c, rel_head[c])] && (hld[s] & (1 << c)));
#endif
#ifdef MUTANT_FIRST_RELEASE_FREES
            hld[s] = 0;
#else
            hld[s] = hld[s] & ~(1 << c);
#endif
            if
            :: pend[s] == 0 && hld[s] == 0 -> st[s] = FREE
            :: else -> skip
            fi;
            rel_head[c]++;
            prel[c]++
        :: else -> break
        od;
        /* reap_end: an honest consumer never holds more than one at r1 */
        assert(mark - prel[c] <= 1);
        r1 = 0; r2 = 0; t = 0; s = 0; mark = 0
    }
}

inline lowest_free(s)
{
    atomic {
        s = NONE;
        for (i : 0 .. NS - 1) {
            if
            :: s == NONE && st[i] == FREE -> s = i
            :: else -> skip
            fi
        };
        i = 0
    }
}

proctype producer()
{
    byte s, c, r1, r2, t, k, i, mark;
    bool r;
    byte best, bage;
    do
    :: npub == NMSG -> break
    :: else ->
        /* loan the lowest FREE slot; reap the consumers only when there is
         * none (the library reaps lazily, as here) */
        lowest_free(s);
        if
        :: s == NONE -> reap(0);
#if NC > 1
            reap(1);
#endif
            lowest_free(s)
        :: else -> skip
        fi;
        if
        :: s != NONE ->
            atomic {
                for (c : 0 .. NC - 1) {
                    has(c, s, r);
                    assert(!r) /* never written while a consumer has it */
                };
                c = 0; k = 0;
                st[s] = LOANED;
                data[s] = (SBASE + npub) & 255 /* the producer writes the slot */
            };
            atomic {
                st[s] = PUB; sseq[s] = (SBASE + npub) & 255; pend[s] = (1 << NC) - 1; hld[s] = 0;
                npub++
            };
            for (c : 0 .. NC - 1) {
#ifdef MUTANT_TAIL_BEFORE_DESCRIPTOR
                tail[c]++;                  /* store-release of tail ... too early */
                dslot[CELL(c, tail[c] - 1)] = s;
                dseq[CELL(c, tail[c] - 1)] = sseq[s];
#else
                atomic { dslot[CELL(c, tail[c])] = s; dseq[CELL(c, tail[c])] = sseq[s];
                         pslot[CELL(c, tail[c])] = s };
                tail[c]++                   /* store-release: the descriptor is visible */
#endif
            };
#ifdef MUTANT_TAIL_BEFORE_DESCRIPTOR
            atomic { pslot[CELL(0, tail[0] - 1)] = s;
#if NC > 1
                     pslot[CELL(1, tail[1] - 1)] = s
#endif
            };
#endif
            c = 0; s = 0
        :: else ->
#ifdef DROP
            /* drop_candidate: the consumer whose oldest pending entry is
             * the oldest message, then CAS its read index */
            atomic {
                best = NONE; bage = 0;
                for (c : 0 .. NC - 1) {
                    if
                    :: pfloor[c] != tail[c] &&
                       (best == NONE || DIST(sseq[pslot[CELL(c, pfloor[c])]], SBASE + npub) > bage) ->
                        best = c; bage = DIST(sseq[pslot[CELL(c, pfloor[c])]], SBASE + npub)
                    :: else -> skip
                    fi
                };
                c = 0
            };
            /* best == NONE: every slot looked held, which only a release
             * not yet reaped can cause: reap again */
            atomic {
#ifdef MUTANT_DROP_WITHOUT_CAS
                if
                :: best != NONE ->
#else
                if
                :: best != NONE && rd[best] == pfloor[best] ->
#endif
                    rd[best] = pfloor[best] + 1;
                    s = pslot[CELL(best, pfloor[best])];
                    pend[s] = pend[s] & ~(1 << best);
                    pfloor[best]++;
                    if
                    :: pend[s] == 0 && hld[s] == 0 -> st[s] = FREE
                    :: else -> skip
                    fi
                :: else -> skip /* the consumer took it first: reap again */
                fi;
                s = 0; best = 0; bage = 0
            }
#else
            /* BLOCK: sleep until some consumer writes a release */
            (rel_tail[0] != rel_head[0]
#if NC > 1
             || rel_tail[1] != rel_head[1]
#endif
            )
#endif
        fi
    od
}

/* cm__sbuf_cons_check on the copy, then cm__sbuf_cons_received: an honest
 * producer's delivery always passes (a failure here is a false PROTOCOL). */
inline check_copy()
{
    assert(ds < NS);
#ifndef DROP
    assert(r == myrd[c]);
#endif
    assert(dq == ((expct[c] + DIST(myrd[c], r)) & 255))
}

proctype consumer(byte c)
{
    byte r, t, ds, dq;
    do
    :: hslot[c] == NONE ->              /* receive */
#if defined(DROP) && (defined(SPLIT_LOADS) || defined(MUTANT_NO_READ_RELOAD))
        /* DROP_OLDEST: load read, load-acquire tail, load read again. The
         * producer may take entries back and publish past the old read's
         * window between the first two loads; only a read unchanged across
         * the tail load pairs with it. */
        r = rd[c];
        t = tail[c];
#ifndef MUTANT_NO_READ_RELOAD
        if
        :: rd[c] != r -> goto again     /* read moved: retry */
        :: else -> skip
        fi;
#endif
        /* cm__sbuf_cons_poll: never PROTOCOL for an honest producer */
        assert(DIST(r, t) <= D && DIST(myrd[c], r) < 128);
#else
        /* BLOCK: read is the consumer's own word, nobody else moves it.
         * DROP_OLDEST without SPLIT_LOADS: the three loads above as one
         * step; when the reload matches, (r, t) is what one atomic load of
         * both at the tail load gives, and a mismatch only retries, so
         * this is the same behaviour in fewer states. */
        atomic {
            r = rd[c];
            t = tail[c];                /* load-acquire */
            assert(DIST(r, t) <= D && DIST(myrd[c], r) < 128)
        };
#endif
        if
        :: r == t ->
            /* empty: sleep on the tail word until it moves, or until the
             * producer is done (PEER_CLOSED once drained) */
            (tail[c] != t || rd[c] != r || npub == NMSG)
        :: else ->
            /* copy the descriptor once, field by field (relaxed loads:
             * under DROP_OLDEST a reuse of the cell can tear it) */
            ds = dslot[CELL(c, r)];
            dq = dseq[CELL(c, r)];
#ifdef MUTANT_CHECK_BEFORE_CLAIM
            check_copy();
#endif
#ifdef MUTANT_CLAIM_WITHOUT_CAS
            if                          /* compare, then a separate store */
            :: rd[c] == r ->
            atomic {
                if
                :: true ->
#else
            atomic {                    /* claim: CAS(read, r, r + 1) */
                if
                :: rd[c] == r ->
#endif
                    rd[c] = r + 1;
#ifndef MUTANT_CHECK_BEFORE_CLAIM
                    /* DROP_OLDEST: check only once the claim proved the
                     * copy genuine. BLOCK checks before its store of read
                     * (nobody else moves read, so the copy is the delivery
                     * either way); the check reads only private state, so
                     * checking in this step is the same. */
                    check_copy();
#endif
                    /* what was accepted is this consumer's delivery at r,
                     * its slot still published with that message (not
                     * taken back, reclaimed or reloaned) */
                    assert(pslot[CELL(c, r)] == ds && st[ds] == PUB && sseq[ds] == dq);
                    hslot[c] = ds; hseq[c] = dq;
                    expct[c] = dq + 1;
                    myrd[c] = r + 1
                :: else -> skip         /* taken back by the producer: retry */
                fi
            }
#ifdef MUTANT_CLAIM_WITHOUT_CAS
            :: else -> skip
            fi
#endif
        fi;
#if defined(DROP) && defined(SPLIT_LOADS) && !defined(MUTANT_NO_READ_RELOAD)
again:  /* (only where a goto needs it: a label costs Spin's statement merging) */
#endif
        r = 0; t = 0; ds = 0; dq = 0
    :: hslot[c] != NONE ->              /* read the message, then release it */
        assert(data[hslot[c]] == hseq[c]);
        /* write the release entry, then store-release rel_tail: one step
         * (the producer reads entries only below the rel_tail it loaded) */
        atomic {
            assert(DIST(rel_head[c], rel_tail[c]) < D); /* an honest ring never fills */
            rslot[CELL(c, rel_tail[c])] = hslot[c];
            rseq[CELL(c, rel_tail[c])] = hseq[c];
            rel_tail[c]++; hslot[c] = NONE; hseq[c] = 0
        }
#ifdef STALL
    :: c == 1 -> break                  /* stops for good, holding what it holds */
#endif
    :: npub == NMSG && rd[c] == tail[c] && hslot[c] == NONE -> break
    od
}

init
{
    atomic {
        run producer();
        run consumer(0)
#if NC > 1
        ; run consumer(1)
#endif
    }
}

ltl all_published { <> (npub == NMSG) }
