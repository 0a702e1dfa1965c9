/**
 * Which JDBC URL parameters a config may set. A URL lands in git, S3, DynamoDB and a Glue
 * connection, so a credential in it leaks everywhere. A deny-list of names always misses one
 * (`sslpassword`, `password2`, `accessToken`, a driver's next option), so this is an ALLOW-list: per
 * engine, the driver options known to carry no secret (connection behaviour, TLS modes, paths of
 * trust stores, time zones, fetch sizes). Any other parameter is refused; a driver option missing
 * here is added to the list in a reviewed change. Names compare case-insensitively, as the drivers do.
 */
import type { Engine } from './jdbc.js';

const words = (s: string) => s.toLowerCase().split(/\s+/).filter(Boolean);

/** Options of MySQL Connector/J that MariaDB Connector/J shares (or ignores harmlessly). */
const MYSQL_COMMON = words(`
  useSSL requireSSL verifyServerCertificate sslMode enabledTLSProtocols tlsVersions enabledSslCipherSuites
  characterEncoding characterSetResults connectionCollation useUnicode serverTimezone connectionTimeZone
  forceConnectionTimeZoneToSession preserveInstants useLegacyDatetimeCode zeroDateTimeBehavior connectTimeout
  socketTimeout autoReconnect allowPublicKeyRetrieval rewriteBatchedStatements useCursorFetch defaultFetchSize
  useServerPrepStmts cachePrepStmts prepStmtCacheSize prepStmtCacheSqlLimit tinyInt1isBit transformedBitIsBoolean
  yearIsDateType nullCatalogMeansCurrent nullDatabaseMeansCurrent databaseTerm useInformationSchema
  maxAllowedPacket useCompression tcpKeepAlive tcpNoDelay readOnlyPropagatesToServer useAffectedRows
  noAccessToProcedureBodies allowLoadLocalInfile allowLocalInfile sessionVariables connectionAttributes
  trustCertificateKeyStoreUrl trustCertificateKeyStoreType clientCertificateKeyStoreUrl clientCertificateKeyStoreType
  fallbackToSystemTrustStore fallbackToSystemKeyStore autocommit dumpQueriesOnException
  includeInnodbStatusInDeadlockExceptions includeThreadDumpInDeadlockExceptions loginTimeout queryTimeout
`);

const ALLOWED: Record<Engine, ReadonlySet<string>> = {
  postgres: new Set(
    words(`
      ApplicationName assumeMinServerVersion autosave adaptiveFetch adaptiveFetchMaximum adaptiveFetchMinimum
      binaryTransfer binaryTransferEnable binaryTransferDisable cancelSignalTimeout channelBinding cleanupSavepoints
      connectTimeout currentSchema databaseMetadataCacheFields databaseMetadataCacheFieldsMiB defaultRowFetchSize
      disableColumnSanitiser escapeSyntaxCallMode gssEncMode gsslib gssResponseTimeout gssUseDefaultCreds
      groupStartupParameters hideUnprivilegedObjects hostRecheckSeconds jaasApplicationName jaasLogin
      kerberosServerName loadBalanceHosts localSocketAddress logServerErrorDetail logUnclosedConnections
      loginTimeout maxResultBuffer maxSendBufferSize options preferQueryMode prepareThreshold
      preparedStatementCacheQueries preparedStatementCacheSizeMiB protocolVersion quoteReturningIdentifiers readOnly
      readOnlyMode receiveBufferSize replication reWriteBatchedInserts sendBufferSize socketTimeout ssl sslcert
      sslfactory sslhostnameverifier sslkey sslmode sslNegotiation sslrootcert sslResponseTimeout stringtype
      targetServerType tcpKeepAlive tcpNoDelay unknownLength useSpnego xmlFactoryFactory
    `),
  ),
  mysql: new Set([...MYSQL_COMMON, ...words('paranoid useUsageAdvisor profileSQL logger')]),
  mariadb: new Set([
    ...MYSQL_COMMON,
    ...words(`
      useSsl serverSslCert trustStore trustStoreType keyStore keyStoreType enabledSslProtocolSuites
      tcpAbortiveClose useReadAheadInput useBulkStmts useCatalogTerm permitMysqlScheme timezone useMysqlMetadata
      blankTableNameMeta servicePrincipalName jaasApplicationName restrictedAuth maxQuerySizeToLog
      credentialType transactionIsolation
    `),
  ]),
  oracle: new Set(
    words(`
      connect_timeout transport_connect_timeout retry_count retry_delay ssl_server_dn_match ssl_server_cert_dn
      wallet_location tns_admin expire_time sdu https_proxy https_proxy_port source_route load_balance failover
      ssl_version ssl_ciphers pool_connection_class oracle.net.ssl_server_dn_match oracle.jdbc.readtimeout
    `),
  ),
  sqlserver: new Set(
    words(`
      databaseName database encrypt trustServerCertificate hostNameInCertificate trustStore trustStoreType
      applicationName applicationIntent multiSubnetFailover loginTimeout socketTimeout queryTimeout
      cancelQueryTimeout authentication integratedSecurity authenticationScheme instanceName portNumber serverName
      workstationID sendStringParametersAsUnicode selectMethod responseBuffering packetSize lastUpdateCount
      lockTimeout columnEncryptionSetting serverSpn failoverPartner sendTimeAsDatetime datetimeParameterType
      xopenStates disableStatementPooling statementPoolingCacheSize enablePrepareOnFirstPreparedStatementCall
      serverPreparedStatementDiscardThreshold hostNameInCertificate ipAddressPreference connectRetryCount
      connectRetryInterval sslProtocol delayLoadingLobs useBulkCopyForBatchInsert
    `),
  ),
};

/** Names that plainly carry a credential (said so in the message). */
const CREDENTIAL_NAME = /user|pass|pwd|secret|token|key|cred|auth|signature|sig$/i;

export interface UrlParamProblem {
  /** For the message: the parameter's name when it has a value (`name=…`), never the value. */
  what: string;
  credential: boolean;
}

/** Raw `name[=value]` parts of the URL's parameters (query string, or SQL Server's `;` properties). */
function rawParams(engine: Engine, url: string): string[] {
  if (engine === 'sqlserver') return url.split(';').slice(1);
  const q = url.indexOf('?');
  return q < 0 ? [] : url.slice(q + 1).split('&');
}

/**
 * Parameters of a (parsed-valid) JDBC URL that are not known-harmless options of the engine's driver.
 * The message names a parameter only by its name, and a bare parameter (no `=`) not at all: its
 * name could itself be the secret.
 */
export function urlParamProblems(engine: Engine, url: string): UrlParamProblem[] {
  const allowed = ALLOWED[engine];
  const out: UrlParamProblem[] = [];
  for (const part of rawParams(engine, url)) {
    if (!part) continue;
    const eq = part.indexOf('=');
    if (eq < 0) {
      out.push({ what: 'a parameter without a value', credential: false });
      continue;
    }
    const name = part.slice(0, eq);
    if (allowed.has(name.toLowerCase())) continue;
    const credential = CREDENTIAL_NAME.test(name);
    const shown = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/.test(name) ? `"${name}"` : 'a parameter with an unusual name';
    out.push({ what: shown, credential });
  }
  return out;
}
