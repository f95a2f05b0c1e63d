/* Test tool for the safety tests: one locked read-modify-write, as the CLI's
 * inject does it, without signing (deterministic, any file size):
 *   safety_inject [--no-lock] PLIST FILE
 * mp_lock_path(FILE) .. mp_image_open .. plan .. apply .. mp_image_write ..
 * mp_lock_release. Prints the plan (mp_plan_describe) on stdout; on failure
 * one line on stderr and the mp_status as exit code. --no-lock skips the lock
 * (the tests show the race it closes). */
#include "machoplist.h"
#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    int lock_it = 1, i = 1;
    if (i < argc && strcmp(argv[i], "--no-lock") == 0) {
        lock_it = 0;
        i++;
    }
    if (argc - i != 2) {
        fprintf(stderr, "usage: safety_inject [--no-lock] PLIST FILE\n");
        return MP_ERR_USAGE;
    }
    const char *file = argv[i + 1];
    size_t len = 0;
    unsigned char *plist = slurp(argv[i], &len);
    if (!plist) {
        fprintf(stderr, "%s: cannot read\n", argv[i]);
        return MP_ERR_IO;
    }
    mp_error err;
    mp_lock *lock = NULL;
    mp_image *img = NULL;
    mp_plan *plan = NULL;
    mp_status st = lock_it ? mp_lock_path(file, &lock, &err) : MP_OK;
    if (st == MP_OK)
        st = mp_image_open(file, &img, &err);
    if (st == MP_OK)
        st = mp_plan_inject(img, plist, len, NULL, &plan, &err);
    if (st == MP_OK) {
        char *text = mp_plan_describe(plan);
        fputs(text ? text : "", stdout);
        fflush(stdout);
        free(text);
        st = mp_image_apply(img, plan, &err);
    }
    if (st == MP_OK)
        st = mp_image_write(img, file, &err);
    mp_lock_release(lock);
    if (st != MP_OK)
        fprintf(stderr, "%s\n", err.message);
    mp_plan_free(plan);
    mp_image_free(img);
    free(plist);
    return st;
}
