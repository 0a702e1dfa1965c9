/**
 * Prefix of a database's credential variables: `OFFLOAD_DB_` + the name upper-cased with every character
 * outside A–Z, 0–9 turned to `_`, + `_` (then `USER`, `PASSWORD`, `URL`). Shared by discovery and the
 * work units' credential references.
 */
export const envPrefix = (name: string) => `OFFLOAD_DB_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_`;
