/* The two-step write (mp_write_begin .. mp_image_sign_write .. commit or
 * abort), through the public API only, against the plain mp_image_sign +
 * mp_image_write:
 *   - the same bytes, for every fixture given (thin and universal);
 *   - committing an image (of the next fixture) other than the one signed
 *     into the write gives that image's bytes (nothing the hashing threads
 *     wrote for the other is trusted);
 *   - abort leaves the target as it was and no temporary;
 *   - a target replaced between begin and commit fails the commit, with the
 *     replacement untouched.
 * usage: write_api WORKDIR FIXTURE... */
#include "machoplist.h"
#include "test_util.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int same_file(const char *a, const char *b)
{
    size_t la = 0, lb = 0;
    unsigned char *x = slurp(a, &la), *y = slurp(b, &lb);
    int same = x && y && la == lb && memcmp(x, y, la) == 0;
    free(x);
    free(y);
    return same;
}

static int write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fputs(text, f);
    return fclose(f) == 0;
}

/* Entries of dir other than . and .. */
static int entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    if (d)
        closedir(d);
    return n;
}

static mp_image *open_signed(const char *path, const char *identifier)
{
    mp_error err;
    mp_image *img = NULL;
    mp_sign_options opt;
    mp_sign_options_init(&opt);
    opt.identifier = identifier;
    if (mp_image_open(path, &img, &err) != MP_OK || mp_image_sign(img, &opt, NULL, &err) != MP_OK) {
        fprintf(stderr, "%s: %s\n", path, err.message);
        mp_image_free(img);
        return NULL;
    }
    return img;
}

static void check_fixture(const char *work, const char *fixture, const char *another, int index)
{
    char dir[4096], plain[4200], two_step[4200], other[4200], kept[4200];
    snprintf(dir, sizeof dir, "%s/case%d", work, index);
    CHECK(mkdir(dir, 0755) == 0, "mkdir %s", dir);
    snprintf(plain, sizeof plain, "%s/plain", dir);
    snprintf(two_step, sizeof two_step, "%s/two-step", dir);
    snprintf(other, sizeof other, "%s/other", dir);
    snprintf(kept, sizeof kept, "%s/kept", dir);
    mp_error err;
    mp_sign_options opt;
    mp_sign_options_init(&opt);
    opt.identifier = "org.example.write-api";

    /* Plain: sign, then write. */
    mp_image *img = open_signed(fixture, opt.identifier);
    CHECK(img && mp_image_write(img, plain, &err) == MP_OK, "%s: plain write", fixture);
    mp_image_free(img);

    /* Two steps: the bytes are written while they are hashed. */
    img = NULL;
    mp_write *w = NULL;
    CHECK(mp_image_open(fixture, &img, &err) == MP_OK, "%s: open", fixture);
    CHECK(mp_write_begin(two_step, &w, &err) == MP_OK, "%s: begin: %s", fixture, err.message);
    CHECK(mp_image_sign_write(img, &opt, w, NULL, &err) == MP_OK, "%s: sign_write: %s", fixture, err.message);
    CHECK(mp_write_commit(w, img, &err) == MP_OK, "%s: commit: %s", fixture, err.message);
    CHECK(same_file(plain, two_step), "%s: two-step write differs from the plain one", fixture);
    mp_image_free(img);

    /* Commit an image other than the one signed into the write: another
     * fixture, so trusting what was written for the first would show. */
    img = NULL;
    mp_image *img2 = open_signed(another, "org.example.other");
    CHECK(mp_image_open(fixture, &img, &err) == MP_OK, "%s: open", fixture);
    CHECK(mp_write_begin(other, &w, &err) == MP_OK, "%s: begin: %s", fixture, err.message);
    CHECK(mp_image_sign_write(img, &opt, w, NULL, &err) == MP_OK, "%s: sign_write: %s", fixture, err.message);
    CHECK(img2 && mp_write_commit(w, img2, &err) == MP_OK, "%s: commit of another image: %s", fixture, err.message);
    char expect[4300];
    snprintf(expect, sizeof expect, "%s.expected", other);
    CHECK(img2 && mp_image_write(img2, expect, &err) == MP_OK, "%s: plain write of the other image", fixture);
    CHECK(same_file(other, expect), "%s: commit of another image did not give its bytes", fixture);
    CHECK(!same_file(other, plain), "%s: the two images should differ (identifier)", fixture);
    unlink(expect);
    mp_image_free(img2);
    mp_image_free(img);

    /* Abort: the target keeps its bytes, no temporary stays. */
    CHECK(write_file(kept, "old contents\n"), "write %s", kept);
    int before = entries(dir);
    img = NULL;
    CHECK(mp_image_open(fixture, &img, &err) == MP_OK, "%s: open", fixture);
    CHECK(mp_write_begin(kept, &w, &err) == MP_OK, "%s: begin: %s", fixture, err.message);
    CHECK(entries(dir) == before + 1, "%s: begin made no temporary", fixture);
    CHECK(mp_image_sign_write(img, &opt, w, NULL, &err) == MP_OK, "%s: sign_write: %s", fixture, err.message);
    mp_write_abort(w);
    size_t len = 0;
    unsigned char *now = slurp(kept, &len);
    CHECK(now && len == 13 && memcmp(now, "old contents\n", 13) == 0, "%s: abort changed the target", fixture);
    free(now);
    CHECK(entries(dir) == before, "%s: abort left %d entries, expected %d", fixture, entries(dir), before);

    /* The target replaced between begin and commit. */
    CHECK(mp_write_begin(kept, &w, &err) == MP_OK, "%s: begin: %s", fixture, err.message);
    CHECK(mp_image_sign_write(img, &opt, w, NULL, &err) == MP_OK, "%s: sign_write: %s", fixture, err.message);
    char moved[4300];
    snprintf(moved, sizeof moved, "%s.new", kept);
    CHECK(write_file(moved, "replacement\n") && rename(moved, kept) == 0, "replace %s", kept);
    CHECK(mp_write_commit(w, img, &err) == MP_ERR_IO, "%s: commit over a replaced target succeeded", fixture);
    char want[4400];
    snprintf(want, sizeof want, "%s: replaced by another file while being written; nothing written", kept);
    CHECK(strcmp(err.message, want) == 0, "%s: message [%s], expected [%s]", fixture, err.message, want);
    now = slurp(kept, &len);
    CHECK(now && len == 12 && memcmp(now, "replacement\n", 12) == 0, "%s: the replacement was overwritten", fixture);
    free(now);
    CHECK(entries(dir) == before, "%s: failed commit left %d entries, expected %d", fixture, entries(dir), before);
    mp_image_free(img);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: write_api WORKDIR FIXTURE...\n");
        return 2;
    }
    for (int i = 2; i < argc; i++)
        check_fixture(argv[1], argv[i], argv[i + 1 < argc ? i + 1 : 2], i - 2);
    printf("%d checks, %d failed\n", checks, fails);
    return fails ? 1 : 0;
}
