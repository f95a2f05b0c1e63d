/* Test tool: run only the plan and apply stages of inject (no signing), so
 * tests can check the section edit on its own. Usage:
 *   inject_nosign [--make-room] [--remove] [--dry-run] PLIST|- IN OUT
 * Exit code: the mp_status of the first failure. */
#include "machoplist.h"
#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    mp_inject_options opt;
    mp_inject_options_init(&opt);
    int remove = 0, dry = 0, i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
        if (strcmp(argv[i], "--make-room") == 0)
            opt.make_room = 1;
        else if (strcmp(argv[i], "--remove") == 0)
            remove = 1;
        else if (strcmp(argv[i], "--dry-run") == 0)
            dry = 1;
    }
    if (argc - i != 3) {
        fprintf(stderr, "usage: inject_nosign [--make-room] [--remove] [--dry-run] PLIST IN OUT\n");
        return 2;
    }
    mp_error err;
    mp_image *img = NULL;
    if (mp_image_open(argv[i + 1], &img, &err) != MP_OK) {
        fprintf(stderr, "%s\n", err.message);
        return err.status;
    }
    mp_plan *plan = NULL;
    mp_status st;
    if (remove) {
        st = mp_plan_remove(img, &plan, &err);
    } else {
        size_t len = 0;
        unsigned char *plist = slurp(argv[i], &len);
        if (!plist) {
            fprintf(stderr, "cannot read %s\n", argv[i]);
            mp_image_free(img);
            return 3;
        }
        st = mp_plan_inject(img, plist, len, &opt, &plan, &err);
        free(plist);
    }
    if (st == MP_OK) {
        char *text = mp_plan_describe(plan);
        fputs(text ? text : "", stdout);
        free(text);
        if (!dry && (st = mp_image_apply(img, plan, &err)) == MP_OK)
            st = mp_image_write(img, argv[i + 2], &err);
    }
    if (st != MP_OK)
        fprintf(stderr, "%s\n", err.message);
    mp_plan_free(plan);
    mp_image_free(img);
    return st;
}
