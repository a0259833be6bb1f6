// The engine API: a model, loaded once, evaluated on graphs.
#pragma once
#include <memory>
#include <string>

#include "graph.hpp"
#include "model.hpp"
#include "result.hpp"

namespace flashtp {

enum class Precision { float32, float64 };
Precision parse_precision(const std::string& name);  // "float32" | "float64"

// Keeps ghost nodes consistent with their owners between layers (LAMMPS
// forward/reverse communication). Feature arrays are num_nodes x dim,
// row-major; only the ghost rows are touched.
class GhostExchange {
 public:
  virtual ~GhostExchange() = default;
  // Copy each owner's features into its ghosts.
  virtual void forward(double* features, int dim) = 0;
  virtual void forward(float* features, int dim) = 0;
  // Add each ghost's gradient into its owner's, then zero the ghost rows.
  virtual void reverse(double* gradients, int dim) = 0;
  virtual void reverse(float* gradients, int dim) = 0;
};

class Engine {
 public:
  virtual ~Engine() = default;
  // Energy of the local nodes, and its derivatives with respect to every
  // edge vector, turned into forces on all nodes and the virial. A graph with
  // ghost nodes needs a GhostExchange to fill in their features each layer.
  virtual Result compute(const Graph& graph, GhostExchange* ghosts = nullptr) = 0;
  // The same into `result`, whose arrays an engine may reuse: a caller that
  // keeps one Result from step to step then allocates nothing after the first
  // (fresh arrays of a few hundred KB cost a page fault every 4 KB).
  virtual void compute(const Graph& graph, Result& result, GhostExchange* ghosts = nullptr) {
    result = compute(graph, ghosts);
  }
  virtual Precision precision() const = 0;
  virtual std::string backend() const = 0;
};

std::unique_ptr<Engine> make_cpu_engine(const Model& model, Precision precision);

}  // namespace flashtp
