/* SPDX-License-Identifier: MIT */
/* Spin model of the DMA buffer ownership protocol (core/dma_own.c,
 * docs/dma.md). Two clients share a pool of two slots with an in-flight
 * bound of one; a device completes submissions in any order, may deliver a
 * late duplicate of an old completion, and either client may die at any
 * point (owner death: ABANDON of everything it holds). Each operation is one
 * atomic step, as the implementation holds the pool lock for each.
 *
 * Checked (assertions, verified in every interleaving):
 *   - the CPU touches a buffer only while its toucher owns it CPU_OWNED;
 *   - the device touches memory only while the slot is IN_FLIGHT or
 *     QUARANTINED (never after the memory went back to the pool);
 *   - a client never acquires memory holding another client's bytes or
 *     device data it did not ask for (scrub before reuse);
 *   - the in-flight count never exceeds the bound;
 *   - a completion whose generation is not the slot's current one changes
 *     nothing;
 *   - a buffer submitted twice is refused.
 * And one liveness property under weak fairness (run with -a -f):
 *   - a quarantined slot is eventually FREE again (the device finishes).
 */

#define NS 2      /* slots */
#define MAXF 1    /* in-flight bound */
#define NGEN 4    /* generations modulo NGEN; only gen and gen-1 ever exist */

#define FREE 0
#define CPU 1
#define FLIGHT 2
#define SIG 3
#define QUAR 4
#define DIRTY 5

byte st[NS];          /* slot state */
byte owner[NS];       /* client holding the buffer id (CPU, FLIGHT, SIG), 0 none */
byte iogen[NS];       /* current submission generation */
byte held;            /* slots FLIGHT or QUAR */
byte data[NS];        /* whose bytes the memory holds: 0 zeroes, c client c */
bool pending[NS];     /* the device has this slot's current submission */
byte late[NS];        /* 0, or 1 + generation of an old completion still in the device */
bool dead[3];         /* dead[c]: client c exited */

inline complete(s, g)
{
    if
    :: g == iogen[s] && st[s] == FLIGHT -> st[s] = SIG; held--
    :: g == iogen[s] && st[s] == QUAR -> st[s] = DIRTY; held--
    :: else -> skip /* dropped: stale generation or nothing outstanding */
    fi
}

/* Picks slot 0 or 1 nondeterministically. */
inline pick(s)
{
    if
    :: s = 0
    :: s = 1
    fi
}

proctype client(byte c)
{
    byte s;
    do
    :: atomic { /* acquire the lowest FREE slot, if any */
        if
        :: st[0] == FREE -> s = 0
        :: st[0] != FREE && st[1] == FREE -> s = 1
        :: else -> s = NS
        fi;
        if
        :: s < NS ->
            assert(data[s] == 0); /* scrub before reuse */
            st[s] = CPU; owner[s] = c
        :: else -> skip /* NO_RESOURCES */
        fi }
    :: atomic { /* write into a buffer it owns */
        pick(s);
        if
        :: st[s] == CPU && owner[s] == c -> data[s] = c
        :: else -> skip /* refused: BAD_HANDLE or BAD_STATE */
        fi }
    :: atomic { /* submit a read: the device will fill the buffer */
        pick(s);
        if
        :: owner[s] == c && st[s] == CPU && held < MAXF ->
            assert(!pending[s]); /* one submission per slot at a time */
            iogen[s] = (iogen[s] + 1) % NGEN;
            st[s] = FLIGHT; held++; pending[s] = true
        :: else -> skip /* double submit (BAD_STATE), bound (NO_RESOURCES), stale id */
        fi }
    :: atomic { /* wait on its fence */
        pick(s);
        if
        :: owner[s] == c && st[s] == SIG -> st[s] = CPU
        :: else -> skip /* SHOULD_WAIT or BAD_HANDLE */
        fi }
    :: atomic { /* release: DIRTY until the pool scrubbed it */
        pick(s);
        if
        :: owner[s] == c && st[s] == CPU -> owner[s] = 0; st[s] = DIRTY
        :: else -> skip
        fi }
    :: atomic { /* read memory it owns: never another client's bytes */
        pick(s);
        if
        :: owner[s] == c && st[s] == CPU -> assert(data[s] == 0 || data[s] == c)
        :: else -> skip
        fi }
    :: atomic { /* owner death: ABANDON everything it holds */
        dead[c] = true;
        for (s : 0 .. NS - 1) {
            if
            :: owner[s] == c ->
                owner[s] = 0;
                if
                :: st[s] == FLIGHT -> st[s] = QUAR
                :: st[s] == CPU || st[s] == SIG -> st[s] = DIRTY
                :: else -> skip
                fi
            :: else -> skip
            fi
        };
        s = 0;
        break }
    od
}

/* The pool zeroes DIRTY slots before they become FREE. One step scrubs
 * every DIRTY slot, so that weak fairness (per process in Spin) reaches each
 * of them; the host does it under the same lock hold as the release. */
active proctype scrubber()
{
    byte i;
end:
    do
    :: atomic { (st[0] == DIRTY || st[1] == DIRTY) ->
        for (i : 0 .. NS - 1) {
            if
            :: st[i] == DIRTY -> data[i] = 0; st[i] = FREE
            :: else -> skip
            fi
        };
        i = 0 }
    od
}

inline dma(s)
{
    assert(st[s] == FLIGHT || st[s] == QUAR); /* DMA only into memory it holds */
    if
    :: owner[s] != 0 -> data[s] = owner[s]
    :: else -> data[s] = 3 /* device bytes whose owner is gone */
    fi;
    pending[s] = false;
    g = iogen[s];
    complete(s, g);
    assert(held <= MAXF);
    late[s] = 1 + g /* the device may repeat this completion later */
}

inline redo(s)
{
    before = st[s];
    g = late[s] - 1;
    late[s] = 0;
    complete(s, g);
    /* A late duplicate never changes a slot: its generation is stale, or
     * the slot already left IN_FLIGHT / QUARANTINED. */
    assert(st[s] == before)
}

/* The device completes pending submissions in any order. */
active proctype device()
{
    byte s; byte g; byte before;
end:
    do
    :: atomic { pending[0] -> s = 0; dma(s) }
    :: atomic { pending[1] -> s = 1; dma(s) }
    :: atomic { late[0] != 0 -> s = 0; redo(s) }
    :: atomic { late[1] != 0 -> s = 1; redo(s) }
    od
}

init
{
    atomic {
        run client(1);
        run client(2)
    }
}

ltl quarantine_ends { [] ((st[0] == QUAR) -> <> (st[0] == FREE)) }
