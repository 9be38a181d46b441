package parse

// MIMESeeds returns multipart messages at the edges of the MIME walker, for
// the fuzz targets of package parse_test.
var MIMESeeds = mimeSeeds
