# JSON to and from the core through jsonlite (Debian r-cran-jsonlite): the configuration strings
# the core takes (shapes, hyperparameters, initializer descriptions) and the descriptions it
# returns (operator schemas, attributes, iterator layouts).

# Objects become named lists, arrays lists, numbers numeric, null NULL.
.mx_json <- function(text) jsonlite::parse_json(text, simplifyVector = FALSE)

# Named lists become objects, unnamed lists and vectors of length != 1 arrays (use I() to force
# an array), NULL null, NA null; numbers keep all 17 significant digits. JSON has no infinity:
# a scalar Inf is written as 1e999, which the core reads back as infinity.
.mx_to_json <- function(x) {
  if (inherits(x, "mx_json")) return(unclass(x))
  if (is.null(x)) return("null")
  as.character(jsonlite::toJSON(.mx_json_ready(x), auto_unbox = TRUE, digits = I(17), null = "null",
                                na = "null", json_verbatim = TRUE))
}

.mx_json_ready <- function(x) {
  if (inherits(x, "mx_json")) return(structure(unclass(x), class = "json"))
  if (is.list(x)) {
    y <- lapply(x, .mx_json_ready)
    attributes(y) <- attributes(x)
    return(y)
  }
  if (is.numeric(x) && any(is.infinite(x))) {
    if (length(x) != 1L || inherits(x, "AsIs"))
      stop("mx: JSON cannot hold Inf inside a vector (got ", deparse(x), ")", call. = FALSE)
    return(structure(if (x > 0) "1e999" else "-1e999", class = "json"))
  }
  x
}

.mx_json_str <- function(s) as.character(jsonlite::toJSON(as.character(s), auto_unbox = TRUE))

# R-style argument names (learning.rate) -> MXNet's (learning_rate).
.mx_py_names <- function(args) {
  if (length(args)) names(args) <- gsub(".", "_", names(args), fixed = TRUE)
  args
}
