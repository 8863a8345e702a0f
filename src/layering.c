/*
 * layering.c - the empty program each module's layering check links.
 *
 * src/CMakeLists.txt links every object of a module (whole archive) with
 * only the libraries the module declares, into pg_<module>_layering: a
 * call into a module it may not use is an undefined reference and fails
 * the build. Nothing here runs.
 */
int main(void)
{
	return 0;
}
