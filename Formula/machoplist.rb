# Homebrew formula for machoplist itself.
#
# No release tarball is published yet: `url` and `sha256` below are
# placeholders to fill in at the first release (`brew fetch --build-from-source`
# prints the real sha256). Until then install the development version with
# --HEAD, from a tap (Homebrew only installs formulae that live in a tap):
#
#   brew tap-new "$USER/local"
#   cp Formula/machoplist.rb "$(brew --repository "$USER/local")/Formula/"
#   # point `head` at your clone, e.g. head "file:///Users/you/src/machoplist", branch: "main"
#   brew install --HEAD "$USER/local/machoplist"
class Machoplist < Formula
  desc "Embed a signed Info.plist in finished Mach-O binaries (Local Network Privacy)"
  homepage "https://example.invalid/machoplist"
  url "https://example.invalid/machoplist/machoplist-0.1.0.tar.gz"
  sha256 "0000000000000000000000000000000000000000000000000000000000000000"
  license "MIT"
  head "https://example.invalid/machoplist.git", branch: "main"

  depends_on "meson" => :build
  depends_on "ninja" => :build
  depends_on "pkgconf" => :build # the formula once called pkg-config
  depends_on "libplist"

  on_linux do
    depends_on "openssl@3" # SHA-1/SHA-256; macOS uses CommonCrypto
  end

  def install
    system "meson", "setup", "build", *std_meson_args, "-Dtests=false"
    system "meson", "compile", "-C", "build", "--verbose"
    system "meson", "install", "-C", "build"
    # meson installed bin/brew-machoplist (`brew machoplist FORMULA`), the
    # completions under share/bash-completion and share/zsh/site-functions,
    # and share/machoplist/machoplist-brew-wrapper.sh.
  end

  def caveats
    <<~EOS
      To fix a Homebrew program that gets "no route to host" on the local network:
        brew machoplist tmux
        tmux kill-server
      To patch it again after every `brew upgrade`, add to ~/.zshrc or ~/.bashrc:
        . #{opt_pkgshare}/machoplist-brew-wrapper.sh
      and list the formulae in ~/.config/machoplist/formulae, one per line.
    EOS
  end

  test do
    assert_match(/^machoplist \d+\.\d+\.\d+$/, shell_output("#{bin}/machoplist version"))

    (testpath/"hello.c").write <<~C
      #include <stdio.h>
      int main(void) { puts("hello"); return 0; }
    C
    if OS.mac?
      # Room for the plist after the load commands, as ld's -headerpad gives.
      system ENV.cc, "hello.c", "-Wl,-headerpad,0x1000", "-o", "hello"
      system bin/"machoplist", "inject", "--identifier", "sh.brew.test.hello", "hello"
      assert_match "sh.brew.test.hello", shell_output("#{bin}/machoplist show --plist hello")
      assert_match "Info.plist entries=4", shell_output("#{bin}/machoplist verify hello")
      assert_match "already up to date", shell_output("#{bin}/machoplist inject --identifier sh.brew.test.hello hello")
      system "codesign", "--verify", "--strict", "hello"
      assert_equal "hello\n", shell_output("./hello")
    else
      # Linux builds ELF: machoplist reads it and says it is not Mach-O (exit 4).
      system ENV.cc, "hello.c", "-o", "hello"
      assert_match "not a Mach-O file", shell_output("#{bin}/machoplist show hello 2>&1", 4)
    end
  end
end
