// lief_dump FILE: the canonical layout text of a Mach-O file as LIEF sees it.
//
// An independent parser to check machoplist's reader against. The output
// format is shared with otool_canon.py and show_canon.py (see canon_format.txt
// in this directory):
//
//   slice N arch ARCH fat_offset 0xHEX
//   segment NAME vmaddr 0xHEX vmsize 0xHEX fileoff 0xHEX filesize 0xHEX
//   section SEGNAME SECTNAME addr 0xHEX size 0xHEX offset 0xHEX align N flags 0xHEX
//   info_plist HEXBYTES            (only when __TEXT,__info_plist exists)
//
// Written against LIEF 0.9 (Debian 12's liblief-dev), whose API is
// Parser::parse -> FatBinary -> Binary -> SegmentCommand -> Section.
// Exit status: 0 printed, 1 LIEF refused the file, 2 usage.
#include <LIEF/MachO.hpp>
#include <LIEF/logging.hpp>

#include <cinttypes>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <vector>

namespace {

std::string arch_name(uint32_t cputype, uint32_t cpusubtype)
{
    uint32_t sub = cpusubtype & 0x00ffffffu;
    switch (cputype) {
    case 0x01000007u: return sub == 8 ? "x86_64h" : "x86_64";
    case 7u: return "i386";
    case 0x0100000cu: return sub == 2 ? "arm64e" : "arm64";
    case 0x0200000cu: return "arm64_32";
    case 12u: return "arm";
    case 18u: return "ppc";
    case 0x01000012u: return "ppc64";
    }
    return "unknown";
}

std::string hex(uint64_t v)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%" PRIx64, v);
    return buf;
}

void dump_binary(size_t index, const LIEF::MachO::Binary &bin)
{
    const LIEF::MachO::Header &h = bin.header();
    std::printf("slice %zu arch %s fat_offset %s\n", index,
                arch_name(static_cast<uint32_t>(h.cpu_type()), h.cpu_subtype()).c_str(),
                hex(bin.fat_offset()).c_str());
    std::vector<uint8_t> plist;
    bool has_plist = false;
    for (const LIEF::MachO::SegmentCommand &seg : bin.segments()) {
        std::printf("segment %s vmaddr %s vmsize %s fileoff %s filesize %s\n", seg.name().c_str(),
                    hex(seg.virtual_address()).c_str(), hex(seg.virtual_size()).c_str(),
                    hex(seg.file_offset()).c_str(), hex(seg.file_size()).c_str());
        for (const LIEF::MachO::Section &sec : seg.sections()) {
            std::printf("section %s %s addr %s size %s offset %s align %u flags %s\n",
                        sec.segment_name().c_str(), sec.name().c_str(), hex(sec.virtual_address()).c_str(),
                        hex(sec.size()).c_str(), hex(sec.offset()).c_str(), sec.alignment(),
                        hex(sec.raw_flags()).c_str());
            if (sec.segment_name() == "__TEXT" && sec.name() == "__info_plist" && !has_plist) {
                has_plist = true;
                plist = sec.content();
            }
        }
    }
    if (has_plist) {
        std::printf("info_plist ");
        for (uint8_t b : plist)
            std::printf("%02x", b);
        std::printf("\n");
    }
}

} // namespace

int main(int argc, char **argv)
{
    if (argc != 2) {
        std::fprintf(stderr, "usage: lief_dump FILE\n");
        return 2;
    }
    LIEF::Logger::disable();
    try {
        std::unique_ptr<LIEF::MachO::FatBinary> fat = LIEF::MachO::Parser::parse(std::string(argv[1]));
        if (!fat || fat->size() == 0) {
            std::fprintf(stderr, "lief_dump: %s: LIEF found no Mach-O slice\n", argv[1]);
            return 1;
        }
        for (size_t i = 0; i < fat->size(); i++)
            dump_binary(i, fat->at(i));
    } catch (const std::exception &e) {
        std::fprintf(stderr, "lief_dump: %s: LIEF refused the file: %s\n", argv[1], e.what());
        return 1;
    }
    return 0;
}
