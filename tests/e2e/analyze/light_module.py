# imported by import_time_clean.py: nothing runs at import.
def table():
    return [i * i % 97 for i in range(300000)]
