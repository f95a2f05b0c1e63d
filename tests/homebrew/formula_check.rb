# Loads Formula/machoplist.rb with a small stand-in for Homebrew's Formula DSL
# (only what the formula uses, with Homebrew's documented meanings), checks
# its metadata and dependencies, runs its `install` into a temporary prefix
# (meson setup build *std_meson_args -Dtests=false, compile, install), then
# its `caveats` and `test` block. Not Homebrew; a check that the formula's
# calls are well formed and its commands work on this machine.
#   ruby formula_check.rb FORMULA SOURCE_COPY PREFIX TESTPATH
require "fileutils"
require "open3"
require "pathname"

formula_file, $source, $prefix, $testpath = ARGV
$failures = []
def check(cond, what)
  $failures << what unless cond
end

module OS
  def self.mac?
    RUBY_PLATFORM.include?("darwin")
  end

  def self.linux?
    RUBY_PLATFORM.include?("linux")
  end
end

def ENV.cc
  self["CC"] || "cc"
end

class Formula
  class << self
    attr_reader :meta, :deps, :test_block

    def inherited(sub)
      super
      $formula_class = sub
      sub.instance_variable_set(:@meta, {})
      sub.instance_variable_set(:@deps, [])
    end

    %i[desc homepage sha256 license].each do |m|
      define_method(m) { |v| @meta[m] = v }
    end

    def url(v, **opts)
      @meta[:url] = [v, opts]
    end

    def head(v, **opts)
      @meta[:head] = [v, opts]
    end

    def depends_on(dep)
      @deps << dep
    end

    def on_linux
      yield if OS.linux?
    end

    def on_macos
      yield if OS.mac?
    end

    def test(&block)
      @test_block = block
    end
  end

  def name
    "machoplist"
  end

  def prefix
    Pathname($prefix)
  end

  def opt_prefix
    prefix
  end

  def bin
    prefix/"bin"
  end

  def share
    prefix/"share"
  end

  def pkgshare
    share/name
  end

  def opt_pkgshare
    pkgshare
  end

  def version
    "0.1.0"
  end

  def testpath
    Pathname($testpath)
  end

  def std_meson_args
    ["--prefix=#{prefix}", "--libdir=lib", "--buildtype=release", "--wrap-mode=nofallback"]
  end

  def system(*args)
    out, status = Open3.capture2e(*args.map(&:to_s))
    raise "failed: #{args.join(" ")}\n#{out}" unless status.success?
  end

  def shell_output(cmd, result = 0)
    out, status = Open3.capture2(cmd)
    raise "#{cmd}: exit #{status.exitstatus}, expected #{result}" if status.exitstatus != result

    out
  end

  def assert_match(pattern, text)
    ok = pattern.is_a?(Regexp) ? pattern.match?(text) : text.include?(pattern)
    raise "#{pattern.inspect} not in #{text.inspect}" unless ok
  end

  def assert_equal(want, got)
    raise "expected #{want.inspect}, got #{got.inspect}" unless want == got
  end
end

load formula_file
klass = $formula_class
check(klass.name == "Machoplist", "class is named Machoplist")
%i[desc homepage url sha256 license head].each { |m| check(klass.meta[m], "#{m} set") }
check(klass.meta[:sha256] =~ /\A\h{64}\z/, "sha256 has 64 hex digits")
check(klass.meta[:head][0].end_with?(".git") || klass.meta[:head][1][:using] == :git, "head is a git URL")
%w[meson ninja pkgconf].each { |d| check(klass.deps.include?({ d => :build }), "#{d} is a build dependency") }
check(klass.deps.include?("libplist"), "depends on libplist")
check(klass.deps.include?("openssl@3"), "depends on openssl@3 on Linux") if OS.linux?

f = klass.new
Dir.chdir($source) { f.install }
%w[bin/machoplist bin/brew-machoplist share/machoplist/machoplist-brew-wrapper.sh
   share/bash-completion/completions/machoplist share/zsh/site-functions/_machoplist
   share/man/man1/machoplist.1].each { |p| check(File.exist?(File.join($prefix, p)), "installed #{p}") }
check(!File.exist?(File.join($source, "build", "tests")), "built with -Dtests=false")
check(f.caveats.include?("#{$prefix}/share/machoplist/machoplist-brew-wrapper.sh"), "caveats name the wrapper")
FileUtils.mkdir_p($testpath)
Dir.chdir($testpath) { f.instance_eval(&klass.test_block) }
if $failures.empty?
  puts "formula ok"
else
  puts $failures.map { |m| "not: #{m}" }
  exit 1
end
