/** The toolkit's version (package.json), recorded in every inventory snapshot; imported as data (bundle-safe). */
import pkg from '../../package.json' with { type: 'json' };

export const TOOL_VERSION: string = pkg.version;
