package policy

// The policy file (or the `policy:` key of the daemon's configuration):
//
//	rules:                      # ordered; the first rule whose `when` holds decides
//	  - id: ci-runner           # unique; named in denials and audit records
//	    description: the CI runner may use the CI key
//	    when: caller.unit == "ci-runner.service" && request.model.startsWith("claude-sonnet")
//	    action: allow           # allow | deny | require_approval
//	    credential: ci          # managed credential to send (default: the store's default)
//	    reason: CI builds       # shown in denials and audit
//	    max_tokens: 8192        # ceiling: a request asking for more is denied (403) saying the limit
//	    models: ["claude-sonnet-*", "claude-haiku-4-5"]  # allowlist, path.Match globs
//	    rate_limit: {requests: 60, tokens: 200000, window: 1m, per: caller}  # 429 + retry-after
//	    budget: {daily_tokens: 2000000, per: caller}      # per UTC day; 429 until midnight UTC
//	    mask:
//	      request: [aws_access_key_id, github_token]  # detectors; omitted = all, [] = none
//	      response: [managed_credential]
//	      on_match: mask        # mask | deny | require_approval when the request pass finds any
//	    record: full            # full (masked bodies and events) | metadata (audit record only)
//	default:                    # answers requests no rule matched; same keys, no `when`
//	  action: deny
//	  reason: this program is not known to the Airlock policy
//
// `per` picks what "one caller" is for a limit: caller (uid + executable,
// the default), uid, exe, unit, container or global. Token limits and budgets
// are charged after each response from its usage, so the request that crosses
// a limit completes and the next one is refused.
//
// CEL variables (conditions must be bool):
//
//	caller.pid caller.uid (int)  caller.user caller.exe caller.comm caller.cgroup caller.unit (string)
//	caller.container.{id,name,image} caller.pod.{namespace,name,uid} (string; "" outside one)
//	caller.exe_name (string: the executable's file name at connect())  caller.exe_changed (bool: /proc at
//	accept no longer showed that executable, so caller.exe is not the caller's — deny on it)
//	request.method request.path request.model (string)  request.max_tokens request.body_size (int)
//	request.stream (bool)  request.tools request.betas (list of string)
//	                           (request.path is resolved: "//v1/./files" is "/v1/files")
//	embedded.class             api_key | oauth_token | admin_key | other | none
//	time                       timestamp of arrival: time.getHours("Europe/Paris"), time.getDayOfWeek()
//	findings                   map detector -> count from the first masking pass: findings["aws_access_key_id"] > 0
//
// Rules with `on: action` decide each tool call (tool_use block) an answer
// tells the client to make, before the client receives it; they see the
// variables above (the request the answer is for) plus
//
//	action.tool action.id action.type (string)  action.input (map: the tool's input object)
//	within(path, dir)          path is dir or under it, lexically; a relative path or "" dir is not
//	caller.cwd                 the caller's working directory at accept ("" when unknown)
//
// and take only id, description, when, action and reason. The first matching
// action rule decides (allow | deny | require_approval); a call none matches
// is allowed. A condition that fails on a call (action.input.command on a
// call without one) denies it, so guard with action.tool or has().
//
// The string extension functions (lowerAscii, split, …) are available. A rule
// that reads request.model, max_tokens, stream or tools cannot decide a body
// that is not valid JSON: such a request is answered 400 invalid_request_error.
// A rule whose condition fails at run time denies (fail closed).
//
// The engine remembers which request rule matched each combination of the
// fields the conditions read (memo.go), unless a condition reads time or uses
// caller, request or embedded whole; caps, limits and budgets still apply to
// every request.
