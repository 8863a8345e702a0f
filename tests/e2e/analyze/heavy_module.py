# imported by import_time.py: its top level does real work at import.
TABLE = [i * i % 97 for i in range(300000)]
