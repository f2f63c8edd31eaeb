"""The plumbing every emulator shares; each emulator package keeps only what its service does.

- `serving`: `Emulator` (the base of every handle: `make_app`, `serve()`, `base_url`),
  `serve_app` (an aiohttp app on a loopback port), `MAX_UPLOAD_BYTES`.
- `handle`: `Shown`, `Knob` and `Forward`, a handle's attributes and methods kept by its parts
  (each an `OfHandle`, as is `sandbox.watch.WaitFor`, a handle's `wait_for_…`).
- `control`: the `/_control/` helpers: `ControlRoutes` (each endpoint declared once, on its
  handler, with what it does: the app's routes and the listing come from it; made with what
  every emulator has, its request log and `POST`/`DELETE /_control/faults`, `MethodFaultOrder`
  the body for an API called by method name; `records()` adds a list of records),
  `ControlBody`, `read_body`, `answers_errors`, `json_error`, `records_json`.
- `faults`: `FaultQueue` (faults answering the next calls they match), `MethodFault` and
  `MethodFaults` (by method name), `checked_kind`, `hang_up` (an injected timeout: hold the
  call, then drop the line).
- `jsonbody`: `json_object` (a request's JSON body as an object, an empty body `{}`) and
  `NotAnObject` (what each service answers it with is its own).
- `ratelimit`: `Limiter` (the limits in force over their buckets), `TokenBucket`,
  `SlidingWindow`, `limits_from` and `retry_after_s`.
"""
