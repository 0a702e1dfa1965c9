/**
 * Stands in for `yaml` in the Lambda bundles (esbuild alias, infra/lib/functions.ts): no Lambda parses YAML.
 * discover reads the configs `offload sync` validated and published as JSON to the config table; the one
 * other importer, the local credentials file (tools/src/catalog/credentials.ts), is read only where such a
 * file exists — on a workstation, never in a Lambda, whose credentials come from Secrets Manager. Refused by
 * name if that ever changes.
 */
export function parse(): never {
  throw new Error(
    'YAML is not parsed in the Lambdas (configs come from the config table, credentials from Secrets Manager); ' +
      'a credentials file is read by the offload CLI only',
  );
}
