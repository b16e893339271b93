//! The connector's icon, drawn in code, and the check of any package's icon,
//! both through the `png` crate.
//!
//! The icon is a square of [`ICON_SIZE`] pixels: the brand colour as the
//! background (the certification rules want neither white nor transparency)
//! with three white bars, the requests of a batch. It is written as an 8-bit
//! RGB PNG (`IHDR`, `IDAT`, `IEND`), rows unfiltered.
//!
//! [`decode`] reads any PNG (every chunk's CRC checked, `IEND` required,
//! palettes, transparency, 16-bit samples and interlacing expanded) into RGBA
//! pixels, so the validator can look at the icon's size and corners.

use std::io::Cursor;

/// Width and height of the exported icon, in pixels (the certification rules
/// ask for a square between 100 and 230 pixels).
pub const ICON_SIZE: u32 = 160;

/// The largest image [`decode`] expands to pixels (its side); a larger one
/// is already refused for its size, so only its header is read.
const MAX_DECODED_SIDE: u32 = 4096;

/// The icon as PNG bytes, on a background of `color` (`[r, g, b]`).
pub fn icon_png(color: [u8; 3]) -> Vec<u8> {
    let size = ICON_SIZE as usize;
    let mut rgb = Vec::with_capacity(size * size * 3);
    for y in 0..size {
        for x in 0..size {
            let px = if on_glyph(x, y, size) { [0xff, 0xff, 0xff] } else { color };
            rgb.extend_from_slice(&px);
        }
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, ICON_SIZE, ICON_SIZE);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::High);
    encoder.set_filter(png::Filter::NoFilter);
    // Writing a 160x160 RGB image of exactly that many bytes into a Vec
    // cannot fail: the header is valid and a Vec's writes do not fail.
    let written = encoder.write_header().and_then(|mut writer| {
        writer.write_image_data(&rgb).and_then(|()| writer.finish())
    });
    debug_assert!(written.is_ok(), "{written:?}");
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

/// A decoded image: RGBA pixels, row by row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Image {
    pub width: u32,
    pub height: u32,
    /// `None` for an image larger than [`MAX_DECODED_SIDE`]: its size is
    /// known from the header, its pixels are not expanded.
    pub rgba: Option<Vec<[u8; 4]>>,
}

impl Image {
    pub(crate) fn pixel(&self, x: u32, y: u32) -> Option<[u8; 4]> {
        let rgba = self.rgba.as_ref()?;
        rgba.get((y * self.width + x) as usize).copied()
    }
}

/// Reads a PNG: the signature, every chunk's CRC, the header, the image data
/// and the chunks up to `IEND`. The error says what is wrong, in the `png`
/// crate's words (or "the file ends too early").
pub(crate) fn decode(bytes: &[u8]) -> Result<Image, String> {
    let why = |e: png::DecodingError| match e {
        png::DecodingError::IoError(io)
            if io.kind() == std::io::ErrorKind::UnexpectedEof =>
        {
            "the file ends too early".to_owned()
        }
        other => other.to_string(),
    };
    let mut decoder = png::Decoder::new(Cursor::new(bytes));
    // Palettes and tRNS to RGB(A), 16-bit samples to 8, sub-byte depths to 8.
    decoder.set_transformations(
        png::Transformations::EXPAND | png::Transformations::STRIP_16,
    );
    let mut reader = decoder.read_info().map_err(why)?;
    let (width, height) = reader.info().size();
    if width > MAX_DECODED_SIDE || height > MAX_DECODED_SIDE {
        return Ok(Image { width, height, rgba: None });
    }
    let size = reader.output_buffer_size().ok_or("the image is too large")?;
    let mut buf = vec![0; size];
    let frame = reader.next_frame(&mut buf).map_err(why)?;
    reader.finish().map_err(why)?;
    let samples = &buf[..frame.buffer_size()];
    let rgba = match frame.color_type {
        png::ColorType::Grayscale => samples.iter().map(|&v| [v, v, v, 0xff]).collect(),
        png::ColorType::GrayscaleAlpha => {
            samples.chunks_exact(2).map(|p| [p[0], p[0], p[0], p[1]]).collect()
        }
        png::ColorType::Rgb => {
            samples.chunks_exact(3).map(|p| [p[0], p[1], p[2], 0xff]).collect()
        }
        png::ColorType::Rgba => {
            samples.chunks_exact(4).map(|p| [p[0], p[1], p[2], p[3]]).collect()
        }
        // EXPAND turns palettes into RGB or RGBA.
        png::ColorType::Indexed => return Err("a palette image was not expanded".into()),
    };
    Ok(Image { width, height, rgba: Some(rgba) })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PNG written by the `png` crate from `data` (rows of `color`
    /// samples), with `filter` on every row.
    fn encode(
        (width, height): (u32, u32),
        color: png::ColorType,
        depth: png::BitDepth,
        setup: impl FnOnce(&mut png::Encoder<'_, &mut Vec<u8>>),
        data: &[u8],
    ) -> Vec<u8> {
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(color);
        encoder.set_depth(depth);
        setup(&mut encoder);
        let mut writer = encoder.write_header().unwrap();
        writer.write_image_data(data).unwrap();
        writer.finish().unwrap();
        out
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
        let why = decode(&png).unwrap_err();
        assert!(why.contains("CRC"), "{why}");
    }

    #[test]
    fn a_truncated_file_and_other_formats_are_refused_with_a_reason() {
        let png = icon_png([1, 2, 3]);
        assert_eq!(
            decode(&png[..png.len() - 12]).unwrap_err(),
            "the file ends too early"
        );
        let why = decode(b"GIF89a not a png").unwrap_err();
        assert!(why.contains("signature"), "{why}");
    }

    #[test]
    fn palettes_transparency_and_grey_become_rgba() {
        let palette = encode(
            (2, 1),
            png::ColorType::Indexed,
            png::BitDepth::Eight,
            |e| {
                e.set_palette(vec![10, 20, 30, 40, 50, 60]);
                e.set_trns(vec![0xff, 0x80]);
            },
            &[1, 0],
        );
        let image = decode(&palette).unwrap();
        assert_eq!(image.rgba.unwrap(), [[40, 50, 60, 0x80], [10, 20, 30, 0xff]]);
        let grey = encode(
            (1, 1),
            png::ColorType::GrayscaleAlpha,
            png::BitDepth::Eight,
            |_| {},
            &[7, 9],
        );
        assert_eq!(decode(&grey).unwrap().rgba.unwrap(), [[7, 7, 7, 9]]);
    }

    #[test]
    fn filters_are_undone() {
        // Sub on row 0, Paeth on row 1, written by the encoder.
        let data = [10, 20, 30, 255, 15, 25, 35, 255, 11, 21, 31, 255, 15, 25, 35, 255];
        for filter in [png::Filter::Sub, png::Filter::Paeth, png::Filter::Adaptive] {
            let png = encode(
                (2, 2),
                png::ColorType::Rgba,
                png::BitDepth::Eight,
                |e| e.set_filter(filter),
                &data,
            );
            let image = decode(&png).unwrap();
            assert_eq!(image.pixel(0, 0), Some([10, 20, 30, 255]));
            assert_eq!(image.pixel(1, 0), Some([15, 25, 35, 255]));
            assert_eq!(image.pixel(0, 1), Some([11, 21, 31, 255]));
            assert_eq!(image.pixel(1, 1), Some([15, 25, 35, 255]));
        }
    }

    #[test]
    fn a_huge_image_is_sized_from_its_header_without_expanding_it() {
        let png = encode(
            (MAX_DECODED_SIDE + 1, 1),
            png::ColorType::Grayscale,
            png::BitDepth::One,
            |_| {},
            &vec![0; (MAX_DECODED_SIDE as usize + 1).div_ceil(8)],
        );
        let image = decode(&png).unwrap();
        assert_eq!(
            (image.width, image.height, image.rgba),
            (MAX_DECODED_SIDE + 1, 1, None)
        );
    }
}
