/* Writes under way (mp_write_begin .. commit or abort), so that a signal that
 * ends the process does not leave their temporary files behind: since the
 * hashing threads write as they hash, a temporary exists for most of a run.
 *
 * A slot holds its own copy of where the temporary is (a duplicate of the
 * directory descriptor and the name), so a handler never touches memory the
 * library may be freeing. Each slot is empty, held, or taken (being filled or
 * emptied, or used by a handler that is about to end the process). A thread
 * that finds its slot taken by a handler waits for that end. After a commit
 * the name no longer exists, and removing it does nothing. */
#include "cli.h"

#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#define SLOTS 64 /* more writes at once than that: the rest are not cleaned */

enum { SLOT_EMPTY, SLOT_HELD, SLOT_TAKEN };

static struct {
    atomic_int state;
    int dir_fd;
    char name[512];
} slots[SLOTS];

int cli_write_started(const mp_write *w)
{
    int lib_dir;
    const char *name = mp_write_temp_name(w, &lib_dir);
    if (!name || strlen(name) >= sizeof slots[0].name)
        return -1;
    for (int i = 0; i < SLOTS; i++) {
        int expected = SLOT_EMPTY;
        if (!atomic_compare_exchange_strong(&slots[i].state, &expected, SLOT_TAKEN))
            continue;
        slots[i].dir_fd = fcntl(lib_dir, F_DUPFD_CLOEXEC, 0);
        if (slots[i].dir_fd < 0) {
            atomic_store(&slots[i].state, SLOT_EMPTY);
            return -1;
        }
        strcpy(slots[i].name, name);
        atomic_store(&slots[i].state, SLOT_HELD);
        return i;
    }
    return -1;
}

void cli_write_ended(int slot)
{
    if (slot < 0 || slot >= SLOTS)
        return;
    int expected = SLOT_HELD;
    if (!atomic_compare_exchange_strong(&slots[slot].state, &expected, SLOT_TAKEN)) {
        if (expected == SLOT_EMPTY) /* ended already */
            return;
        for (;;) /* a handler is removing it and ends the process */
            pause();
    }
    close(slots[slot].dir_fd);
    atomic_store(&slots[slot].state, SLOT_EMPTY);
}

void cli_remove_pending_temps(void)
{
    for (size_t i = 0; i < SLOTS; i++) {
        int expected = SLOT_HELD;
        if (atomic_compare_exchange_strong(&slots[i].state, &expected, SLOT_TAKEN))
            unlinkat(slots[i].dir_fd, slots[i].name, 0);
    }
}

static void on_stop_signal(int sig)
{
    cli_remove_pending_temps();
    signal(sig, SIG_DFL);
    raise(sig); /* end as the signal would have: the caller sees it */
}

void cli_clean_up_on_signals(void)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction old;
        /* An ignored signal (nohup) stays ignored. */
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
            sigaction(sigs[i], &sa, NULL);
    }
}
