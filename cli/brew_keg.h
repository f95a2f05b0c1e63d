/* Locating Homebrew kegs for `machoplist brew`. */
#ifndef MP_CLI_BREW_KEG_H
#define MP_CLI_BREW_KEG_H

#include "cli.h"

#include <stddef.h>

/* The keg of an installed formula ("tmux", "user/tap/tmux"): the path
 * `brew --prefix FORMULA` prints when brew is on PATH and it exists, else
 * $HOMEBREW_PREFIX/opt/NAME, else the newest $HOMEBREW_CELLAR/NAME/VERSION
 * (HOMEBREW_CELLAR defaults to $HOMEBREW_PREFIX/Cellar; without
 * HOMEBREW_PREFIX /opt/homebrew, /usr/local and /home/linuxbrew/.linuxbrew
 * are tried). Returns 0, or MP_ERR_IO (not installed) / MP_ERR_USAGE (bad
 * name) with a one-line reason in why. */
int brew_find_keg(const char *formula, char *keg, size_t cap, char *why, size_t wcap);

#endif
