package containers

import (
	"context"
	"net"
	"path/filepath"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/airlock-dev/airlock/caller"
)

// fakeCRI answers ContainerStatus as containerd's CRI plugin does for a
// container the kubelet created: labels naming its pod and container.
type fakeCRI struct {
	runtimeapi.UnimplementedRuntimeServiceServer
	asked []string
}

const (
	podUID   = "0f9b1c2d-3e4f-5a6b-7c8d-9e0f1a2b3c4d"
	criImage = "registry.example.com/legacy-agent:1.2"
)

func (f *fakeCRI) ContainerStatus(_ context.Context, req *runtimeapi.ContainerStatusRequest) (*runtimeapi.ContainerStatusResponse, error) {
	f.asked = append(f.asked, req.GetContainerId())
	if req.GetContainerId() != id64 {
		return nil, status.Errorf(codes.NotFound, "an error occurred when try to find container %q: not found", req.GetContainerId())
	}
	return &runtimeapi.ContainerStatusResponse{Status: &runtimeapi.ContainerStatus{
		Id: id64, Metadata: &runtimeapi.ContainerMetadata{Name: "agent"},
		Image: &runtimeapi.ImageSpec{Image: criImage}, ImageRef: "sha256:feedface",
		Labels: map[string]string{labelPodNamespace: "agents", labelPodName: "agent-7d9f", labelPodUID: podUID,
			labelContainerName: "agent"},
	}}, nil
}

// startFakeCRI serves f on a unix socket, as a CRI runtime does.
func startFakeCRI(t *testing.T, f *fakeCRI) string {
	sock := filepath.Join(t.TempDir(), "cri.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	runtimeapi.RegisterRuntimeServiceServer(srv, f)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	return sock
}

// TestCRINamesThePod: no Docker-compatible socket knows the container, the
// CRI runtime does: the caller gets its pod namespace, name and uid, its
// container name and image, asked once (then cached).
func TestCRINamesThePod(t *testing.T) {
	f := &fakeCRI{}
	rt := NewRuntimes([]string{filepath.Join(t.TempDir(), "absent.sock")}, nil).WithCRI(
		[]string{filepath.Join(t.TempDir(), "absent-cri.sock"), startFakeCRI(t, f)})
	for range 2 {
		p := caller.Process{Container: id64, PodUID: podUID}
		rt.Name(context.Background(), &p)
		want := caller.Process{Container: id64, ContainerName: "agent", ContainerImage: criImage,
			PodNamespace: "agents", PodName: "agent-7d9f", PodUID: podUID}
		if p.ContainerName != want.ContainerName || p.ContainerImage != want.ContainerImage ||
			p.PodNamespace != want.PodNamespace || p.PodName != want.PodName || p.PodUID != want.PodUID {
			t.Errorf("named %+v, want %+v", p, want)
		}
	}
	if len(f.asked) != 1 {
		t.Errorf("CRI asked %d times, want once (cached)", len(f.asked))
	}
}

// TestCRIUnknownContainer: a container the runtime does not know keeps
// what its cgroup path said (id, pod uid) and nothing else.
func TestCRIUnknownContainer(t *testing.T) {
	other := "aa" + id64[2:]
	rt := NewRuntimes([]string{filepath.Join(t.TempDir(), "absent.sock")}, nil).WithCRI([]string{startFakeCRI(t, &fakeCRI{})})
	if _, err := rt.Inspect(context.Background(), other); status.Code(err) != codes.NotFound {
		t.Errorf("Inspect of an unknown container: %v, want the runtime's NotFound", err)
	}
	p := caller.Process{Container: other, PodUID: podUID}
	rt.Name(context.Background(), &p)
	if p.PodName != "" || p.ContainerName != "" || p.PodUID != podUID {
		t.Errorf("unknown container named %+v, want only the cgroup path's id and pod uid", p)
	}
}
