"""Django's SQLite backend, told the real limit on variables in one statement.

Django 5.2 assumes SQLite's old compile-time default of 999, so a bulk insert of a hundred
orders' jobs is split into several INSERTs; the SQLite Python links today allows far more
(32,766 since SQLite 3.32) and says so. Confirming a batch then costs the same statements
as confirming one order (tests/test_query_counts.py).
"""

import sqlite3

from django.db.backends.sqlite3 import base, features
from django.utils.functional import cached_property


class DatabaseFeatures(features.DatabaseFeatures):
    @cached_property
    def max_query_params(self) -> int:
        self.connection.ensure_connection()
        return self.connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)


class DatabaseWrapper(base.DatabaseWrapper):
    features_class = DatabaseFeatures
