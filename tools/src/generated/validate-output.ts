/* Generated from schema/validate-output.schema.json by tools/scripts/generate-types.ts — do not edit. */

/**
 * What `offload validate --format json` prints: a stable structure for tools. New fields may be added; existing ones
 * keep their meaning while `version` is 1.
 */
export interface ValidateOutput {
  /**
   * Format version of this structure.
   */
  version: 1;
  /**
   * True when there is no error (warnings allowed); the exit status is 0 exactly then.
   */
  ok: boolean;
  /**
   * Counts over the files reported on.
   */
  summary: {
    /**
     * Number of files reported on.
     */
    files: number;
    /**
     * Number of findings with severity error.
     */
    errors: number;
    /**
     * Number of findings with severity warning.
     */
    warnings: number;
  };
  /**
   * Repository-relative paths of the files reported on.
   */
  files: string[];
  /**
   * Every finding, sorted by file, line, column and code.
   */
  findings: {
    /**
     * Stable identifier of the check (`yaml/…`, `schema/…`, `rule/…`), listed in the README.
     */
    code: string;
    /**
     * `error` fails validation; `warning` does not.
     */
    severity: 'error' | 'warning';
    /**
     * Repository-relative path of the file.
     */
    file: string;
    /**
     * 1-based line of the offending node.
     */
    line: number;
    /**
     * 1-based column (in characters) of the offending node.
     */
    column: number;
    /**
     * JSON pointer (RFC 6901) of the offending value in the document; empty for the whole file.
     */
    pointer: string;
    /**
     * What is wrong.
     */
    message: string;
    /**
     * How to fix it.
     */
    fix: string;
  }[];
}
