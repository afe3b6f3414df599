package frameworks_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/asynctrace/asynctrace/httptrace"
)

func TestNetHTTP(t *testing.T) {
	testFramework(t, framework{
		userRoute:  "/users/{id}",
		spanName:   semconvName,
		noRecovery: true,
		start: func(t *testing.T, a *app, ln net.Listener) {
			mux := http.NewServeMux()
			mux.HandleFunc("GET /users/{id}", getUser)
			mux.HandleFunc("POST /users", postUser)
			mux.HandleFunc("GET /fail", fail)
			mux.HandleFunc("GET /healthz", healthz)
			mux.HandleFunc("POST /v1/process", a.process)
			serveHTTP(t, httptrace.WrapHandler(mux, a.tel.Options()...), ln)
		},
	})
}

func TestChi(t *testing.T) {
	testFramework(t, framework{
		userRoute: "/users/{id}",
		spanName:  semconvName,
		start: func(t *testing.T, a *app, ln net.Listener) {
			r := chi.NewRouter()
			r.Use(
				httptrace.NewMiddleware(a.tel.Options(httptrace.WithRouteFunc(func(r *http.Request) string {
					return chi.RouteContext(r.Context()).RoutePattern()
				}))...),
				middleware.Recoverer,
			)
			r.Get("/users/{id}", getUser)
			r.Post("/users", postUser)
			r.Get("/fail", fail)
			r.Get("/panic", func(http.ResponseWriter, *http.Request) { panic(errBoom) })
			r.Get("/healthz", healthz)
			r.Post("/v1/process", a.process)
			serveHTTP(t, r, ln)
		},
	})
}

// The net/http handlers chi and ServeMux share.

func getUser(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"id": r.PathValue("id")})
}

func postUser(w http.ResponseWriter, r *http.Request) {
	var u user
	if err := json.NewDecoder(r.Body).Decode(&u); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(u)
}

func fail(w http.ResponseWriter, _ *http.Request) {
	http.Error(w, errBoom.Error(), http.StatusInternalServerError)
}

func healthz(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }

func (a *app) process(w http.ResponseWriter, r *http.Request) {
	if err := a.send(r.Context()); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// serveHTTP serves h on ln until the test ends.
func serveHTTP(t *testing.T, h http.Handler, ln net.Listener) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	})
}
