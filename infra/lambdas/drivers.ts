/**
 * The database drivers the Lambda bundles ship: PostgreSQL and MySQL/MariaDB, imported statically
 * so esbuild includes them. Oracle and SQL Server are left out of the bundles (their drivers are
 * most of a bundle's size); a database on those engines gets the catalog's "driver missing" error.
 */
import pg from 'pg';
import mysql from 'mysql2/promise';
import { provideDriver } from '../../tools/src/catalog/connect.js';

provideDriver('pg', pg);
provideDriver('mysql2/promise', mysql);
