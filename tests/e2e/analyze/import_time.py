# import: the time goes to a module's top-level code at import.
import heavy_module

print(len(heavy_module.TABLE))
