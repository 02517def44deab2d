/*
 * DIE attributes the function index and the inline trees both read, through
 * DW_AT_abstract_origin / DW_AT_specification where DWARF puts them there.
 */
#include "elf/sym_internal.h"

#include <dwarf.h>

const char *sym_die_linkage(Dwarf_Die *die)
{
	Dwarf_Attribute a;

	if (dwarf_attr_integrate(die, DW_AT_linkage_name, &a) ||
	    dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &a))
		return dwarf_formstring(&a);
	return NULL;
}

const char *sym_die_name(Dwarf_Die *die)
{
	Dwarf_Attribute a;

	if (dwarf_attr_integrate(die, DW_AT_name, &a))
		return dwarf_formstring(&a);
	return NULL;
}

/*
 * DW_AT_decl_file through abstract_origin/specification. Not dwarf_decl_file():
 * elfutils 0.188 treats index 0 as "no file", but DWARF 5 (clang's default)
 * numbers the primary source file 0.
 */
const char *sym_die_decl_file(Dwarf_Die *die)
{
	Dwarf_Attribute a;
	Dwarf_Word idx;
	Dwarf_Die cudie;
	Dwarf_Files *files;
	size_t nfiles;
	uint8_t addr_size, off_size;
	Dwarf_Half version = 0;

	if (!dwarf_attr_integrate(die, DW_AT_decl_file, &a) || dwarf_formudata(&a, &idx) != 0)
		return "";
	if (!dwarf_cu_die(a.cu, &cudie, &version, NULL, &addr_size, &off_size, NULL, NULL))
		return "";
	if (idx == 0 && version < 5)
		return "";
	if (dwarf_getsrcfiles(&cudie, &files, &nfiles) != 0 || idx >= nfiles)
		return "";
	return sym_nz(dwarf_filesrc(files, idx, NULL, NULL));
}

int64_t sym_die_udata(Dwarf_Die *die, unsigned attr)
{
	Dwarf_Attribute a;
	Dwarf_Word w;

	if (!dwarf_attr(die, attr, &a) || dwarf_formudata(&a, &w) != 0)
		return 0;
	return w > INT64_MAX ? 0 : (int64_t)w;
}
