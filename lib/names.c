/* Human names for numeric Mach-O fields, as Apple's tools print them. */
#include "image.h"
#include "inject_plan.h"
#include "macho_format.h"

#include <string.h>

const char *mp_arch_name(uint32_t cputype, uint32_t cpusubtype)
{
    uint32_t sub = cpusubtype & ~CPU_SUBTYPE_MASK;
    switch (cputype) {
    case CPU_TYPE_X86_64: return sub == 8 ? "x86_64h" : "x86_64";
    case CPU_TYPE_X86: return "i386";
    case CPU_TYPE_ARM64: return sub == CPU_SUBTYPE_ARM64E ? "arm64e" : "arm64";
    case CPU_TYPE_ARM64_32: return "arm64_32";
    case CPU_TYPE_ARM: return "arm";
    case CPU_TYPE_POWERPC: return "ppc";
    case CPU_TYPE_POWERPC | CPU_ARCH_ABI64: return "ppc64";
    }
    return "unknown";
}

const char *mp_filetype_name(uint32_t filetype)
{
    switch (filetype) {
    case MH_OBJECT: return "object";
    case MH_EXECUTE: return "execute";
    case 3: return "fvmlib";
    case 4: return "core";
    case 5: return "preload";
    case MH_DYLIB: return "dylib";
    case MH_DYLINKER: return "dylinker";
    case MH_BUNDLE: return "bundle";
    case 9: return "dylib_stub";
    case 10: return "dsym";
    case 11: return "kext_bundle";
    case 12: return "fileset";
    }
    return "unknown";
}

const char *mp_platform_name(uint32_t platform)
{
    static const char *const names[] = {
        NULL, "macos", "ios", "tvos", "watchos", "bridgeos", "maccatalyst",
        "iossimulator", "tvossimulator", "watchossimulator", "driverkit",
        "visionos", "visionossimulator",
    };
    if (platform < sizeof names / sizeof names[0] && names[platform])
        return names[platform];
    return "unknown";
}

/* Segment and section names are 16 bytes, NUL-padded but not always NUL-terminated. */
void mp_segname_copy(char dst[17], const uint8_t *src)
{
    memcpy(dst, src, 16);
    dst[16] = '\0';
}

const char *mp_lc_name(uint32_t cmd)
{
    switch (cmd) {
    case LC_SEGMENT: return "LC_SEGMENT";
    case LC_SYMTAB: return "LC_SYMTAB";
    case LC_DYSYMTAB: return "LC_DYSYMTAB";
    case LC_SEGMENT_64: return "LC_SEGMENT_64";
    case LC_UUID: return "LC_UUID";
    case LC_CODE_SIGNATURE: return "LC_CODE_SIGNATURE";
    case LC_SOURCE_VERSION: return "LC_SOURCE_VERSION";
    case LC_DATA_IN_CODE: return "LC_DATA_IN_CODE";
    case LC_FUNCTION_STARTS: return "LC_FUNCTION_STARTS";
    case LC_BUILD_VERSION: return "LC_BUILD_VERSION";
    case LC_MAIN: return "LC_MAIN";
    }
    return "load command";
}
