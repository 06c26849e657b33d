package containers

import (
	"context"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// DefaultCRISockets are the CRI runtimes' sockets asked about a Kubernetes
// container: containerd's and CRI-O's.
var DefaultCRISockets = []string{"/run/containerd/containerd.sock", "/run/crio/crio.sock"}

// The labels the kubelet puts on every container it creates through CRI.
const (
	labelPodNamespace  = "io.kubernetes.pod.namespace"
	labelPodName       = "io.kubernetes.pod.name"
	labelPodUID        = "io.kubernetes.pod.uid"
	labelContainerName = "io.kubernetes.container.name"
)

// criInspect asks one CRI runtime (gRPC over its unix socket) about the
// container with this id: its kubelet labels name the pod and the container.
func criInspect(ctx context.Context, sock, id string) (Info, error) {
	ctx, cancel := context.WithTimeout(ctx, askTimeout)
	defer cancel()
	conn, err := grpc.NewClient("unix://"+sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return Info{}, fmt.Errorf("connecting to CRI socket %s: %w", sock, err)
	}
	defer conn.Close()
	resp, err := runtimeapi.NewRuntimeServiceClient(conn).ContainerStatus(ctx, &runtimeapi.ContainerStatusRequest{ContainerId: id})
	if err != nil {
		return Info{}, fmt.Errorf("CRI ContainerStatus %s on %s: %w", id, sock, err)
	}
	return infoOfCRI(resp.GetStatus()), nil
}

func infoOfCRI(st *runtimeapi.ContainerStatus) Info {
	l := st.GetLabels()
	info := Info{ID: st.GetId(), Name: l[labelContainerName], Image: st.GetImage().GetImage(),
		PodNamespace: l[labelPodNamespace], PodName: l[labelPodName], PodUID: l[labelPodUID]}
	if info.Name == "" {
		info.Name = st.GetMetadata().GetName()
	}
	if info.Image == "" {
		info.Image = st.GetImageRef()
	}
	return info
}
