//! The connector's icon, drawn in code, and a small PNG reader for checking
//! the icons of packages.
//!
//! The icon is a square of [`ICON_SIZE`] pixels: the brand colour as the
//! background (the certification rules want neither white nor transparency)
//! with three white bars, the requests of a batch. It is written as an 8-bit
//! RGB PNG: signature, `IHDR`, one zlib `IDAT` (miniz_oxide), `IEND`, each
//! chunk with its CRC-32.

/// Width and height of the exported icon, in pixels (the certification rules
/// ask for a square between 100 and 230 pixels).
pub const ICON_SIZE: u32 = 160;

const SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];

/// The icon as PNG bytes, on a background of `color` (`[r, g, b]`).
pub fn icon_png(color: [u8; 3]) -> Vec<u8> {
    let size = ICON_SIZE as usize;
    let mut raw = Vec::with_capacity(size * (size * 3 + 1));
    for y in 0..size {
        raw.push(0); // filter type None
        for x in 0..size {
            let px = if on_glyph(x, y, size) { [0xff, 0xff, 0xff] } else { color };
            raw.extend_from_slice(&px);
        }
    }
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&ICON_SIZE.to_be_bytes());
    ihdr.extend_from_slice(&ICON_SIZE.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8 bits, RGB, deflate, filter 0, no interlace
    let mut out = SIGNATURE.to_vec();
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &miniz_oxide::deflate::compress_to_vec_zlib(&raw, 9));
    chunk(&mut out, b"IEND", &[]);
    out
}

/// Three rounded white bars, left-aligned with a square bullet each.
fn on_glyph(x: usize, y: usize, size: usize) -> bool {
    let unit = size / 16; // 10 px at 160
    let rows = [4 * unit, 7 * unit + unit / 2, 11 * unit];
    let height = 2 * unit;
    rows.iter().any(|&top| {
        let in_row = y >= top && y < top + height;
        let bullet = x >= 3 * unit && x < 5 * unit;
        let bar = x >= 6 * unit && x < 13 * unit;
        // round the bar's right end: cut the two outer corner pixels
        let corner = x >= 13 * unit - unit / 3
            && (y < top + unit / 3 || y >= top + height - unit / 3);
        in_row && (bullet || (bar && !corner))
    })
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = Crc::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(&crc.finish().to_be_bytes());
}

/// CRC-32 (ISO 3309, polynomial 0xEDB88320), as PNG chunks use.
pub(crate) struct Crc(u32);

impl Crc {
    pub(crate) fn new() -> Self {
        Crc(0xffff_ffff)
    }

    pub(crate) fn update(&mut self, bytes: &[u8]) {
        for &b in bytes {
            let mut c = (self.0 ^ u32::from(b)) & 0xff;
            for _ in 0..8 {
                c = if c & 1 == 1 { 0xedb8_8320 ^ (c >> 1) } else { c >> 1 };
            }
            self.0 = c ^ (self.0 >> 8);
        }
    }

    pub(crate) fn finish(&self) -> u32 {
        self.0 ^ 0xffff_ffff
    }
}

/// A decoded image: RGBA pixels, row by row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Image {
    pub width: u32,
    pub height: u32,
    /// `None` when the format is valid but not one this reader expands
    /// (bit depths other than 8, interlacing): sizes are still known.
    pub rgba: Option<Vec<[u8; 4]>>,
}

impl Image {
    pub(crate) fn pixel(&self, x: u32, y: u32) -> Option<[u8; 4]> {
        let rgba = self.rgba.as_ref()?;
        rgba.get((y * self.width + x) as usize).copied()
    }
}

/// Reads a PNG: checks the signature, every chunk's CRC, `IHDR` first and
/// `IEND` last, inflates the `IDAT` stream and undoes the row filters.
pub(crate) fn decode(bytes: &[u8]) -> Result<Image, String> {
    let rest = bytes.strip_prefix(&SIGNATURE).ok_or("not a PNG file (bad signature)")?;
    let mut at = 0usize;
    let mut header: Option<(u32, u32, u8, u8, u8)> = None;
    let mut palette: Vec<[u8; 4]> = Vec::new();
    let mut transparency: Vec<u8> = Vec::new();
    let mut idat = Vec::new();
    let mut ended = false;
    while at < rest.len() {
        let take = |from: usize, n: usize| {
            rest.get(from..from + n)
                .ok_or_else(|| format!("truncated chunk at byte {}", from + 8))
        };
        let len =
            u32::from_be_bytes(take(at, 4)?.try_into().unwrap_or_default()) as usize;
        let kind: [u8; 4] = take(at + 4, 4)?.try_into().unwrap_or_default();
        let data = take(at + 8, len)?;
        let stored =
            u32::from_be_bytes(take(at + 8 + len, 4)?.try_into().unwrap_or_default());
        let mut crc = Crc::new();
        crc.update(&kind);
        crc.update(data);
        let name = String::from_utf8_lossy(&kind).into_owned();
        if crc.finish() != stored {
            return Err(format!("chunk {name}: CRC mismatch"));
        }
        if header.is_none() && &kind != b"IHDR" {
            return Err(format!("first chunk is {name}, not IHDR"));
        }
        match &kind {
            b"IHDR" => {
                if data.len() != 13 {
                    return Err("IHDR is not 13 bytes long".into());
                }
                let w = u32::from_be_bytes([data[0], data[1], data[2], data[3]]);
                let h = u32::from_be_bytes([data[4], data[5], data[6], data[7]]);
                if w == 0 || h == 0 {
                    return Err("zero width or height".into());
                }
                header = Some((w, h, data[8], data[9], data[12]));
            }
            b"PLTE" => {
                palette =
                    data.chunks_exact(3).map(|c| [c[0], c[1], c[2], 0xff]).collect();
            }
            b"tRNS" => transparency = data.to_vec(),
            b"IDAT" => idat.extend_from_slice(data),
            b"IEND" => {
                ended = true;
                break;
            }
            _ => {}
        }
        at += 12 + len;
    }
    let (width, height, depth, color, interlace) = header.ok_or("no IHDR chunk")?;
    if !ended {
        return Err("no IEND chunk".into());
    }
    if idat.is_empty() {
        return Err("no IDAT chunk".into());
    }
    let channels = match color {
        0 => 1,
        2 => 3,
        3 => 1,
        4 => 2,
        6 => 4,
        other => return Err(format!("unknown colour type {other}")),
    };
    if depth != 8 || interlace != 0 {
        return Ok(Image { width, height, rgba: None });
    }
    let stride = width as usize * channels;
    let expected = (stride + 1) * height as usize;
    let raw = miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(&idat, expected)
        .map_err(|e| format!("IDAT does not inflate: {e:?}"))?;
    if raw.len() != expected {
        return Err(format!(
            "IDAT holds {} bytes, the header implies {expected}",
            raw.len()
        ));
    }
    let mut pixels = Vec::with_capacity(width as usize * height as usize);
    let mut previous = vec![0u8; stride];
    for row in raw.chunks_exact(stride + 1) {
        let filter = row[0];
        let mut line = row[1..].to_vec();
        for i in 0..stride {
            let a = if i >= channels { line[i - channels] } else { 0 };
            let b = previous[i];
            let c = if i >= channels { previous[i - channels] } else { 0 };
            let predictor = match filter {
                0 => 0,
                1 => a,
                2 => b,
                3 => ((u16::from(a) + u16::from(b)) / 2) as u8,
                4 => paeth(a, b, c),
                other => return Err(format!("unknown row filter {other}")),
            };
            line[i] = line[i].wrapping_add(predictor);
        }
        for px in line.chunks_exact(channels) {
            pixels.push(match color {
                0 => [px[0], px[0], px[0], 0xff],
                2 => [px[0], px[1], px[2], 0xff],
                3 => {
                    let i = usize::from(px[0]);
                    let mut p = *palette.get(i).ok_or("palette index out of range")?;
                    if let Some(&alpha) = transparency.get(i) {
                        p[3] = alpha;
                    }
                    p
                }
                4 => [px[0], px[0], px[0], px[1]],
                _ => [px[0], px[1], px[2], px[3]],
            });
        }
        previous = line;
    }
    Ok(Image { width, height, rgba: Some(pixels) })
}

fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let p = i16::from(a) + i16::from(b) - i16::from(c);
    let (pa, pb, pc) =
        ((p - i16::from(a)).abs(), (p - i16::from(b)).abs(), (p - i16::from(c)).abs());
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_of_iend_is_the_well_known_value() {
        let mut crc = Crc::new();
        crc.update(b"IEND");
        assert_eq!(crc.finish(), 0xae42_6082);
    }

    #[test]
    fn the_icon_decodes_to_a_square_of_brand_colour_with_white_bars() {
        let color = [0x12, 0x34, 0x56];
        let image = decode(&icon_png(color)).unwrap();
        assert_eq!((image.width, image.height), (ICON_SIZE, ICON_SIZE));
        let last = ICON_SIZE - 1;
        for (x, y) in [(0, 0), (last, 0), (0, last), (last, last), (ICON_SIZE / 2, 2)] {
            assert_eq!(image.pixel(x, y), Some([0x12, 0x34, 0x56, 0xff]), "({x},{y})");
        }
        let pixels = image.rgba.unwrap();
        let white = pixels.iter().filter(|p| **p == [0xff; 4]).count();
        let brand = pixels.iter().filter(|p| **p == [0x12, 0x34, 0x56, 0xff]).count();
        assert!(white > 0 && brand > white, "white {white}, brand {brand}");
        assert_eq!(white + brand, pixels.len());
    }

    #[test]
    fn a_flipped_byte_is_a_crc_mismatch() {
        let mut png = icon_png([1, 2, 3]);
        png[20] ^= 0xff; // inside IHDR's data
        assert!(decode(&png).unwrap_err().contains("CRC"));
    }

    #[test]
    fn filters_are_undone() {
        // 2x2 RGBA with Sub on row 0 and Paeth on row 1, built by hand.
        let raw = [
            1, 10, 20, 30, 255, 5, 5, 5, 0, // Sub: second pixel = first + delta
            4, 1, 1, 1, 0, 0, 0, 0, 0, // Paeth
        ];
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(&2u32.to_be_bytes());
        ihdr.extend_from_slice(&2u32.to_be_bytes());
        ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
        let mut png = SIGNATURE.to_vec();
        chunk(&mut png, b"IHDR", &ihdr);
        chunk(&mut png, b"IDAT", &miniz_oxide::deflate::compress_to_vec_zlib(&raw, 6));
        chunk(&mut png, b"IEND", &[]);
        let image = decode(&png).unwrap();
        assert_eq!(image.pixel(0, 0), Some([10, 20, 30, 255]));
        assert_eq!(image.pixel(1, 0), Some([15, 25, 35, 255]));
        assert_eq!(image.pixel(0, 1), Some([11, 21, 31, 255]));
        assert_eq!(image.pixel(1, 1), Some([15, 25, 35, 255]));
    }
}
