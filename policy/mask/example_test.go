package mask_test

import (
	"fmt"
	"os"

	"github.com/airlock-dev/airlock/policy/mask"
)

// The gateway masks the request body before forwarding, and the SSE
// response through a Stream placed between upstream and the client.
func Example() {
	m, err := mask.New(mask.Config{Key: []byte("per-install-secret")})
	if err != nil {
		panic(err)
	}
	m.SetManaged([]string{"sk-ant-api03-FAKE-managed-not-real"})

	body, res, _ := m.Request([]byte(`{"messages":[{"role":"user","content":"use AKIAIOSFODNN7EXAMPLE"}]}`), nil)
	fmt.Println(string(body), res.Counts)

	s := m.NewStream(os.Stdout, nil, mask.StreamOptions{})
	s.Write([]byte("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"key: sk-ant-api03-FAKE-\"}}\n\n"))
	s.Write([]byte("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"managed-not-real.\"}}\n\n"))
	s.Write([]byte("event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"))
	s.Close()
	fmt.Println(s.Result().Counts)
	// Output:
	// {"messages":[{"role":"user","content":"use [REDACTED:aws_access_key_id:a4a6ea]"}]} map[aws_access_key_id:1]
	// event: content_block_delta
	// data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"key: [REDACTED:managed_credential:aa03bb]."}}
	//
	// event: content_block_stop
	// data: {"type":"content_block_stop","index":0}
	//
	// map[managed_credential:1]
}
