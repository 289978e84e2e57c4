/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Telemetry service: /metrics (Prometheus), one hour of per-second history,
 * live samples as Server-Sent Events, runtime log settings and the web
 * dashboard's static files, all on the REST API server.
 *
 * Routes: GET /metrics, GET /api/v1/history, GET /api/v1/events,
 * GET|PUT /api/v1/log, GET /api/v1/logs (recent records), GET / and
 * GET /static/{file}. docs/api/openapi.yaml
 * describes them.
 */
#ifndef AP_TELEMETRY_H
#define AP_TELEMETRY_H

#include "svc/svc.h"

/** Seconds of history kept (one sample a second). */
#define AP_TELEMETRY_HISTORY 3600

/** Records GET /api/v1/logs returns when the request gives no max. */
#define AP_TELEMETRY_LOGS_DEFAULT 100

/** Most Server-Sent Events clients at once. */
#define AP_TELEMETRY_MAX_STREAMS 32

/** The service's hooks, for aetherd's services[] table. */
extern const struct ap_svc_ops ap_telemetry_svc;

#endif
