# no import finding: the module is cheap to import, its work is a call.
import light_module

print(len(light_module.table()))
