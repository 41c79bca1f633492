// Keys a Consul agent (1.2–1.17) accepts that connect-dns does not use: accepted with one warning.

export const IGNORED_TOP = [
  'acl_agent_master_token', 'acl_agent_token', 'acl_datacenter', 'acl_default_policy',
  'acl_down_policy', 'acl_enable_key_list_policy', 'acl_enforce_version_8',
  'acl_replication_token', 'acl_token', 'acl_ttl', 'advertise_addr_ipv4', 'advertise_addr_ipv6',
  'advertise_addr_wan', 'advertise_addr_wan_ipv4', 'advertise_addr_wan_ipv6', 'advertise_addrs',
  'advertise_reconnect_timeout', 'audit', 'auto_config', 'auto_encrypt', 'auto_reload_config', 'autopilot',
  'bind_addr', 'bootstrap', 'bootstrap_expect', 'ca_file', 'ca_path', 'cache', 'cert_file', 'check_output_max_size',
  'check_update_interval', 'cloud', 'config_entries', 'default_query_time', 'disable_anonymous_signature',
  'disable_coordinates', 'disable_host_node_id', 'disable_http_unprintable_char_filter',
  'disable_keyring_file', 'disable_remote_exec', 'disable_update_check', 'discard_check_output',
  'discovery_max_stale', 'enable_acl_replication', 'enable_agent_tls_for_checks',
  'enable_central_service_config', 'enable_debug',
  'enable_syslog', 'encrypt', 'encrypt_verify_incoming', 'encrypt_verify_outgoing', 'experiments', 'gossip_lan',
  'gossip_wan', 'http_config', 'key_file', 'leave_on_terminate', 'limits', 'locality', 'log_file',
  'log_json', 'log_rotate_bytes', 'log_rotate_duration', 'log_rotate_max_files', 'log_sublevels', 'max_query_time',
  'node_id', 'non_voting_server', 'partition', 'peering', 'performance', 'pid_file', 'primary_datacenter',
  'primary_gateways', 'primary_gateways_interval', 'protocol', 'raft_boltdb', 'raft_logstore', 'raft_protocol',
  'raft_snapshot_interval', 'raft_snapshot_threshold', 'raft_trailing_logs', 'read_replica', 'reconnect_timeout',
  'reconnect_timeout_wan', 'rejoin_after_leave', 'reporting', 'retry_interval', 'retry_interval_wan', 'retry_join',
  'retry_join_wan', 'retry_max', 'retry_max_wan', 'rpc', 'segment', 'segments', 'serf_lan',
  'serf_lan_allowed_cidrs', 'serf_wan', 'serf_wan_allowed_cidrs', 'server', 'server_name',
  'session_ttl_min', 'skip_leave_on_interrupt', 'snapshot_agent', 'start_join', 'start_join_wan', 'syslog_facility',
  'tagged_addresses', 'telemetry', 'translate_wan_addrs', 'ui', 'ui_config', 'ui_content_path', 'ui_dir',
  'unix_sockets', 'use_streaming_backend', 'verify_incoming', 'verify_incoming_https', 'verify_incoming_rpc',
  'verify_outgoing', 'verify_server_hostname', 'watches', 'tls', 'xds',
] as const;

/**
 * Whole families Consul grew over versions (tls_min_version, tls_cipher_suites, …); license_ covers
 * Enterprise's license_path and its license_poll_* / license_update_* timings.
 */
export const IGNORED_TOP_PREFIXES = ['tls_', 'verify_', 'encrypt_verify_', 'license_'] as const;

export const IGNORED_PORTS = ['https', 'grpc', 'grpc_tls', 'serf_lan', 'serf_wan', 'server', 'expose_min_port', 'expose_max_port'] as const;

export const IGNORED_ADDRESSES = ['https', 'grpc', 'grpc_tls'] as const;

export const IGNORED_DNS = ['allow_stale', 'max_stale', 'use_cache', 'cache_max_age', 'prefer_namespace'] as const;

export const IGNORED_CONNECT = [
  'ca_provider', 'ca_config', 'enable_mesh_gateway_wan_federation', 'enable_serverless_plugin', 'test_ca_leaf_root_change_spread',
] as const;

export const IGNORED_SERVICE = ['token', 'tagged_addresses', 'namespace', 'partition', 'locality', 'socket_path'] as const;

export const IGNORED_UNMANAGED_PROXY = ['mesh_gateway', 'expose', 'mode', 'transparent_proxy', 'local_service_socket_path'] as const;

/** Check kinds connect-dns cannot run, and knobs it does not model. `script` is 1.2's string form of `args`. */
export const IGNORED_CHECK = [
  'script', 'docker_container_id', 'shell', 'grpc', 'grpc_use_tls', 'alias_node', 'alias_service', 'token',
  'output_max_size', 'success_before_passing', 'failures_before_critical', 'failures_before_warning',
  'body', 'h2ping', 'h2ping_use_tls', 'tls_server_name', 'udp', 'os_service', 'disable_redirects', 'namespace', 'partition',
] as const;

/** `acl` keys besides the master token: there are no ACLs beyond that one token. */
export const IGNORED_ACL = [
  'enabled', 'default_policy', 'down_policy', 'policy_ttl', 'role_ttl', 'token_ttl', 'disabled_ttl',
  'enable_key_list_policy', 'enable_token_replication', 'enable_token_persistence', 'msp_disable_bootstrap',
] as const;

export const IGNORED_ACL_TOKENS = [
  'agent', 'agent_master', 'agent_recovery', 'default', 'replication', 'managed_service_provider',
  'config_file_service_registration', 'dns',
] as const;
