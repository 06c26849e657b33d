package audit

import "encoding/json"

// Action is a tool call the API told the client to make: a tool_use block of
// the response (server_tool_use and mcp_tool_use too), with its input as the
// client received it (masked). Actions live in their request's record, so
// the hash chain covers them.
type Action struct {
	ID        string          `json:"id"`   // the block's id, which the client's tool_result names
	Type      string          `json:"type"` // tool_use | server_tool_use | mcp_tool_use
	Tool      string          `json:"tool"`
	Input     json.RawMessage `json:"input,omitempty"`     // the complete input object, masked
	Truncated bool            `json:"truncated,omitempty"` // the input exceeded the recorded bound
	// allow | deny | approved | approval_denied | approval_timeout: what the
	// policy's action rules (and a reviewer) decided; the client received
	// the call only when allow or approved.
	Decision   string `json:"decision"`
	Rule       string `json:"rule,omitempty"`   // the action rule that decided ("" when none matched)
	Reason     string `json:"reason,omitempty"` // the rule's reason, or the bound that refused the call
	ApprovalID string `json:"approval_id,omitempty"`
	Approver   string `json:"approver,omitempty"`
}

// ToolResult is a client's report, in a later request, of running an action.
type ToolResult struct {
	ToolUseID string `json:"tool_use_id"`
	IsError   bool   `json:"is_error,omitempty"`
	Size      int    `json:"size"`              // bytes of the result content as sent
	Excerpt   string `json:"excerpt,omitempty"` // its first bytes, masked
}
