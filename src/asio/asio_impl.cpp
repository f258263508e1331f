// The one translation unit that compiles Asio's and Beast's implementation.
// Everything else is built with BOOST_ASIO_SEPARATE_COMPILATION and
// BOOST_BEAST_SEPARATE_COMPILATION and only sees declarations, which keeps
// each Beast-using file out of the minute-long compile.
#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
