/**
 * Where the functions' metrics go. Powertools Metrics gives each the dimension `service` with the name the code
 * passes it (which wins over POWERTOOLS_SERVICE_NAME), and the stack's alarms watch them under these same names.
 */
export const METRICS_NAMESPACE = 'ClientVpnEvictor';
export const SERVICE_NAME = 'client-vpn-evictor';
