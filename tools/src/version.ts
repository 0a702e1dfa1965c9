/**
 * The toolkit's version (package.json), recorded in every inventory snapshot. Imported, not read from
 * disk, so bundles (the Lambdas) carry it too.
 */
import pkg from '../../package.json' with { type: 'json' };

export const TOOL_VERSION: string = (pkg as { version: string }).version;
